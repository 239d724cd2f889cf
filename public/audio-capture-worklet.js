// AudioWorklet processor for Offgrid's microphone input: averages the input channels to mono and posts
// Float32Array chunks of about 100 ms to the page, which forwards them to the engine worker. Nothing is
// resampled here: the worker resamples to 16 kHz with the engine's resampler.
class OffgridCapture extends AudioWorkletProcessor {
  constructor() {
    super();
    this.size = Math.max(128, Math.round(sampleRate / 10));
    this.buffer = new Float32Array(this.size);
    this.filled = 0;
  }

  process(inputs) {
    const input = inputs[0];
    if (!input || input.length === 0 || !input[0]) return true;
    const frames = input[0].length;
    for (let i = 0; i < frames; i++) {
      let sum = 0;
      for (let c = 0; c < input.length; c++) sum += input[c][i];
      this.buffer[this.filled++] = sum / input.length;
      if (this.filled === this.size) {
        this.port.postMessage(this.buffer, [this.buffer.buffer]);
        this.buffer = new Float32Array(this.size);
        this.filled = 0;
      }
    }
    return true;
  }
}

registerProcessor("offgrid-capture", OffgridCapture);

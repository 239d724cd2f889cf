// Registers the service worker and tells the app (a Rust/Yew page) when a new version is waiting.
// It runs before the wasm loads, so no update signal is missed: the app reads
// window.offgridUpdateWaiting on start and listens for "offgrid-update-available".
(function () {
  if (!("serviceWorker" in navigator)) return;
  const announce = () => {
    window.offgridUpdateWaiting = true;
    window.dispatchEvent(new Event("offgrid-update-available"));
  };
  window.addEventListener("load", async () => {
    try {
      const reg = await navigator.serviceWorker.register("./sw.js");
      if (reg.waiting && navigator.serviceWorker.controller) announce();
      reg.addEventListener("updatefound", () => {
        const incoming = reg.installing;
        if (!incoming) return;
        incoming.addEventListener("statechange", () => {
          if (incoming.state === "installed" && navigator.serviceWorker.controller) announce();
        });
      });
      let reloading = false;
      navigator.serviceWorker.addEventListener("controllerchange", () => {
        if (window.offgridApplying && !reloading) {
          reloading = true;
          window.location.reload();
        }
      });
      window.offgridApplyUpdate = () => {
        window.offgridApplying = true;
        if (reg.waiting) reg.waiting.postMessage({ type: "SKIP_WAITING" });
        else window.location.reload();
      };
      document.addEventListener("visibilitychange", () => {
        if (document.visibilityState === "visible") reg.update().catch(() => {});
      });
    } catch (err) {
      console.warn("Offgrid: the service worker could not be registered; offline use is off.", err);
    }
  });
})();

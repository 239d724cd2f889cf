//! The op API: methods on [`crate::Tensor`], one file per op family, dispatching on the device.

//! Files in the Origin Private File System (OPFS), from the worker: where search collections persist.
//! Called through `Reflect` so no unstable web-sys bindings are needed.

use crate::js::{await_promise, js_error_message, worker_scope};
use js_sys::{Function, Promise, Reflect, Uint8Array};
use wasm_bindgen::{JsCast, JsValue};

fn call(target: &JsValue, method: &str, args: &[JsValue]) -> Result<JsValue, String> {
    let function: Function = Reflect::get(target, &JsValue::from_str(method))
        .map_err(|e| js_error_message(&e))?
        .dyn_into()
        .map_err(|_| format!("{method} is not available in this browser"))?;
    let array = args.iter().collect::<js_sys::Array>();
    function
        .apply(target, &array)
        .map_err(|e| js_error_message(&e))
}

async fn call_async(target: &JsValue, method: &str, args: &[JsValue]) -> Result<JsValue, JsValue> {
    let promise: Promise = call(target, method, args)
        .map_err(|e| JsValue::from_str(&e))?
        .dyn_into()
        .map_err(|_| JsValue::from_str("expected a promise"))?;
    await_promise(promise).await
}

fn options(create: bool) -> JsValue {
    let o = js_sys::Object::new();
    let _ = Reflect::set(&o, &"create".into(), &JsValue::from_bool(create));
    o.into()
}

/// A folder in OPFS.
pub struct Folder {
    handle: JsValue,
}

impl Folder {
    /// The folder `name` under the OPFS root, created if missing.
    pub async fn open(name: &str) -> Result<Folder, String> {
        let storage = worker_scope()?.navigator().storage();
        let root = call_async(storage.as_ref(), "getDirectory", &[])
            .await
            .map_err(|e| {
                format!(
                    "this browser has no private file storage (OPFS): {}",
                    js_error_message(&e)
                )
            })?;
        let handle = call_async(&root, "getDirectoryHandle", &[name.into(), options(true)])
            .await
            .map_err(|e| js_error_message(&e))?;
        Ok(Folder { handle })
    }

    /// Writes a whole file (replacing it). A full disk comes back as an error naming QuotaExceededError.
    pub async fn write(&self, name: &str, bytes: &[u8]) -> Result<(), JsValue> {
        let file = call_async(&self.handle, "getFileHandle", &[name.into(), options(true)]).await?;
        let writable = call_async(&file, "createWritable", &[]).await?;
        let data: JsValue = Uint8Array::from(bytes).into();
        if let Err(e) = call_async(&writable, "write", &[data]).await {
            let _ = call_async(&writable, "abort", &[]).await;
            return Err(e);
        }
        call_async(&writable, "close", &[]).await?;
        Ok(())
    }

    /// Reads a whole file, `None` if it does not exist.
    pub async fn read(&self, name: &str) -> Result<Option<Vec<u8>>, String> {
        let file = match call_async(
            &self.handle,
            "getFileHandle",
            &[name.into(), options(false)],
        )
        .await
        {
            Ok(f) => f,
            Err(_) => return Ok(None),
        };
        let blob = call_async(&file, "getFile", &[])
            .await
            .map_err(|e| js_error_message(&e))?;
        let buffer = call_async(&blob, "arrayBuffer", &[])
            .await
            .map_err(|e| js_error_message(&e))?;
        Ok(Some(Uint8Array::new(&buffer).to_vec()))
    }

    /// Deletes a file; true if it existed.
    pub async fn remove(&self, name: &str) -> bool {
        call_async(&self.handle, "removeEntry", &[name.into()])
            .await
            .is_ok()
    }

    /// Names of the files in the folder.
    pub async fn list(&self) -> Result<Vec<String>, String> {
        let iterator = call(&self.handle, "keys", &[])?;
        let mut names = Vec::new();
        loop {
            let next = call_async(&iterator, "next", &[])
                .await
                .map_err(|e| js_error_message(&e))?;
            if Reflect::get(&next, &"done".into())
                .ok()
                .and_then(|d| d.as_bool())
                .unwrap_or(true)
            {
                break;
            }
            if let Some(name) = Reflect::get(&next, &"value".into())
                .ok()
                .and_then(|v| v.as_string())
            {
                names.push(name);
            }
        }
        names.sort();
        Ok(names)
    }
}

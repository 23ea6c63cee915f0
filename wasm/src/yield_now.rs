//! Hands control back to the browser's event loop between CPU batches (a `setTimeout(0)`), so that the page
//! repaints its progress bar while a long encoding runs on the main thread; natively a no-op.

/// Resolves on the next macrotask in a browser (window or worker); at once elsewhere.
#[cfg(target_arch = "wasm32")]
pub async fn yield_now() {
    use js_sys::{Function, Promise, Reflect};
    use wasm_bindgen::{JsCast, JsValue};
    let promise = Promise::new(&mut |resolve, _| {
        let set_timeout = Reflect::get(&js_sys::global(), &JsValue::from_str("setTimeout"))
            .ok()
            .and_then(|f| f.dyn_into::<Function>().ok());
        match set_timeout {
            Some(f) => {
                if f.call2(&JsValue::NULL, &resolve, &JsValue::from(0)).is_err() {
                    let _ = resolve.call0(&JsValue::NULL);
                }
            }
            None => {
                let _ = resolve.call0(&JsValue::NULL);
            }
        }
    });
    let _ = wasm_bindgen_futures::JsFuture::from(promise).await;
}

/// Resolves on the next macrotask in a browser (window or worker); at once elsewhere.
#[cfg(not(target_arch = "wasm32"))]
pub async fn yield_now() {}

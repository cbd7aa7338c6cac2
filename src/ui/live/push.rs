//! This browser's Web Push subscription (the preferences page's switch):
//! registers `/sw.js` and asks the Push API to subscribe with the server's
//! VAPID key, or unsubscribes. Plain `js_sys::Reflect` calls, so the
//! bundle needs no extra `web-sys` bindings; no inline script (CSP).

use js_sys::{Function, Object, Promise, Reflect};
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;

fn get(target: &JsValue, key: &str) -> Result<JsValue, JsValue> {
    Reflect::get(target, &JsValue::from_str(key))
}

/// `target[method](...args)`, awaited when it returns a promise.
async fn call(target: &JsValue, method: &str, args: &[JsValue]) -> Result<JsValue, JsValue> {
    let f: Function = get(target, method)?.dyn_into()?;
    let out = f.apply(target, &args.iter().collect::<js_sys::Array>())?;
    match out.dyn_into::<Promise>() {
        Ok(promise) => JsFuture::from(promise).await,
        Err(value) => Ok(value),
    }
}

fn message(e: JsValue) -> String {
    get(&e, "message")
        .ok()
        .and_then(|m| m.as_string())
        .or_else(|| e.as_string())
        .unwrap_or_else(|| "the browser refused".into())
}

/// Whether this browser has the Push API at all.
pub fn supported() -> bool {
    let nav = get(&js_sys::global(), "navigator").unwrap_or(JsValue::UNDEFINED);
    let workers = get(&nav, "serviceWorker").unwrap_or(JsValue::UNDEFINED);
    !workers.is_undefined()
        && !get(&js_sys::global(), "PushManager")
            .unwrap_or_default()
            .is_undefined()
}

async fn registration() -> Result<JsValue, JsValue> {
    let nav = get(&js_sys::global(), "navigator")?;
    let workers = get(&nav, "serviceWorker")?;
    call(&workers, "register", &["/sw.js".into()]).await?;
    // `ready`: the registration once its worker is active.
    JsFuture::from(get(&workers, "ready")?.dyn_into::<Promise>()?).await
}

/// The current subscription, if this browser has one.
async fn current() -> Result<JsValue, JsValue> {
    let manager = get(&registration().await?, "pushManager")?;
    call(&manager, "getSubscription", &[]).await
}

/// Whether this browser is subscribed now.
pub async fn subscribed() -> bool {
    current()
        .await
        .is_ok_and(|s| !s.is_null() && !s.is_undefined())
}

/// Subscribes with `public_key` (base64url, accepted as a string by the
/// Push API); returns `JSON.stringify(subscription)` for the server.
pub async fn subscribe(public_key: &str) -> Result<String, String> {
    async {
        let manager = get(&registration().await?, "pushManager")?;
        let options = Object::new();
        Reflect::set(&options, &"userVisibleOnly".into(), &JsValue::TRUE)?;
        Reflect::set(&options, &"applicationServerKey".into(), &public_key.into())?;
        let subscription = call(&manager, "subscribe", &[options.into()]).await?;
        js_sys::JSON::stringify(&subscription)?
            .as_string()
            .ok_or_else(|| JsValue::from_str("no subscription"))
    }
    .await
    .map_err(message)
}

/// Unsubscribes this browser; returns the endpoint it had, if any.
pub async fn unsubscribe() -> Result<Option<String>, String> {
    async {
        let subscription = current().await?;
        if subscription.is_null() || subscription.is_undefined() {
            return Ok(None);
        }
        let endpoint = get(&subscription, "endpoint")?.as_string();
        call(&subscription, "unsubscribe", &[]).await?;
        Ok(endpoint)
    }
    .await
    .map_err(message)
}

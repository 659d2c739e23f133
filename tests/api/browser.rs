//! The browser the front-end tests drive: Debian's headless Chromium through chromedriver, over
//! the W3C WebDriver protocol, with axe-core (from npm) for the accessibility checks.

use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use uuid::Uuid;

/// Waits up to this long for anything to show.
pub const PATIENCE: Duration = Duration::from_secs(30);
const CHROMEDRIVER: &str = "/usr/bin/chromedriver";
const CHROMIUM: &str = "/usr/bin/chromium";
const ELEMENT: &str = "element-6066-11e4-a52e-4f735466cecf";
/// A phone's window, in CSS pixels: what the phone checks hold a screen to.
const PHONE_WIDTH: u64 = 390;
const PHONE_HEIGHT: u64 = 844;

/// A chromedriver of the test's own, on a free port; stopped, with its browser, when dropped.
pub struct ChromeDriver {
    child: Child,
    url: String,
    client: reqwest::Client,
    /// The browser's profile and temporary files, removed at the end.
    tmp: std::path::PathBuf,
}

impl ChromeDriver {
    /// None, with a notice, where Chromium is not installed, unless `AFTERCARE_BROWSER_TEST=required`.
    pub async fn start() -> Option<ChromeDriver> {
        if let Some(missing) = [CHROMEDRIVER, CHROMIUM]
            .into_iter()
            .find(|b| !Path::new(b).exists())
        {
            let message = format!(
                "{missing} is missing: the dashboard test drives Debian's headless Chromium; \
                 install it with `apt-get install chromium chromium-driver`"
            );
            assert!(
                std::env::var("AFTERCARE_BROWSER_TEST").as_deref() != Ok("required"),
                "{message}"
            );
            eprintln!("skipped: {message}");
            return None;
        }
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("a free port")
            .port();
        let tmp = std::env::temp_dir().join(format!("aftercare-chromium-{}", Uuid::new_v4()));
        std::fs::create_dir_all(&tmp).expect("a temporary folder");
        let child = Command::new(CHROMEDRIVER)
            .arg(format!("--port={port}"))
            .env("TMPDIR", &tmp)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            // Its own process group, so that the browser goes with it.
            .process_group(0)
            .spawn()
            .expect("start chromedriver");
        let driver = ChromeDriver {
            child,
            url: format!("http://127.0.0.1:{port}"),
            client: reqwest::Client::new(),
            tmp,
        };
        let started = Instant::now();
        loop {
            let status = driver
                .client
                .get(format!("{}/status", driver.url))
                .send()
                .await;
            if let Ok(r) = status
                && let Ok(body) = r.json::<Value>().await
                && body["value"]["ready"] == true
            {
                break;
            }
            assert!(started.elapsed() < PATIENCE, "chromedriver did not start");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        Some(driver)
    }

    /// A new headless browser window of `width` x `height` CSS pixels.
    pub async fn session_at(&self, width: u32, height: u32) -> Browser {
        let caps = json!({"capabilities": {"alwaysMatch": {
            "browserName": "chrome",
            "goog:loggingPrefs": {"browser": "ALL"},
            "goog:chromeOptions": {
                "binary": CHROMIUM,
                "args": ["--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu",
                         &format!("--window-size={width},{height}"), "--no-first-run", "--lang=en-GB"]
            }
        }}});
        let r = self
            .client
            .post(format!("{}/session", self.url))
            .json(&caps)
            .send()
            .await
            .expect("chromedriver answers");
        let body: Value = r.json().await.expect("a WebDriver answer");
        let id = body["value"]["sessionId"]
            .as_str()
            .unwrap_or_else(|| panic!("no browser session: {body}"));
        let browser = Browser {
            client: self.client.clone(),
            url: format!("{}/session/{id}", self.url),
            width,
            height,
        };
        // The flag sets the outer window; the page gets exactly this size.
        browser.resize(height.into()).await;
        browser
    }
}

impl ChromeDriver {
    /// Asks chromedriver to exit (it closes its browsers first), and waits a while for it.
    pub async fn stop(mut self) {
        let _ = self
            .client
            .get(format!("{}/shutdown", self.url))
            .send()
            .await;
        let started = Instant::now();
        while started.elapsed() < Duration::from_secs(5) {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

impl Drop for ChromeDriver {
    fn drop(&mut self) {
        let group = format!("-{}", self.child.id());
        let _ = Command::new("kill").args(["-KILL", "--", &group]).status();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.tmp);
    }
}

/// One browser session, driven over plain WebDriver HTTP calls.
pub struct Browser {
    client: reqwest::Client,
    url: String,
    width: u32,
    height: u32,
}

impl Browser {
    pub async fn call(&self, method: reqwest::Method, path: &str, body: Option<Value>) -> Value {
        let mut req = self.client.request(method, format!("{}{path}", self.url));
        if let Some(body) = body {
            req = req.json(&body);
        }
        let r = req.send().await.expect("chromedriver answers");
        let status = r.status();
        let body: Value = r.json().await.unwrap_or(Value::Null);
        assert!(status.is_success(), "WebDriver {path}: {status} {body}");
        body["value"].clone()
    }

    pub async fn goto(&self, url: &str) {
        self.call(reqwest::Method::POST, "/url", Some(json!({"url": url})))
            .await;
    }

    pub async fn script(&self, script: &str, args: Value) -> Value {
        self.call(
            reqwest::Method::POST,
            "/execute/sync",
            Some(json!({"script": script, "args": args})),
        )
        .await
    }

    /// Polls `script` until it returns something other than null or false; its answer.
    pub async fn until(&self, what: &str, script: &str) -> Value {
        let started = Instant::now();
        loop {
            let v = self.script(script, json!([])).await;
            if !v.is_null() && v != false {
                return v;
            }
            if started.elapsed() > PATIENCE {
                let page = self
                    .script("return document.body.innerText.slice(0, 3000)", json!([]))
                    .await;
                panic!("waited {PATIENCE:?} for {what}; the page shows:\n{page}");
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    pub async fn element(&self, css: &str) -> String {
        let v = self
            .call(
                reqwest::Method::POST,
                "/element",
                Some(json!({"using": "css selector", "value": css})),
            )
            .await;
        v[ELEMENT].as_str().expect("an element").to_string()
    }

    /// Clicks `css`, scrolled to the middle of the window first, as a finger would, clear of
    /// anything fixed at the window's edges.
    pub async fn click(&self, css: &str) {
        let el = self.element(css).await;
        let node = json!({ELEMENT: el});
        self.script(
            "arguments[0].scrollIntoView({block: 'center'})",
            json!([node]),
        )
        .await;
        self.call(
            reqwest::Method::POST,
            &format!("/element/{el}/click"),
            Some(json!({})),
        )
        .await;
    }

    /// Clicks `css` once it is on the page.
    pub async fn click_when_ready(&self, css: &str) {
        self.until(css, &format!("return !!document.querySelector({css:?})"))
            .await;
        self.click(css).await;
    }

    pub async fn type_into(&self, css: &str, text: &str) {
        self.until(
            css,
            &format!("return !!document.querySelector({css:?})?.checkVisibility()"),
        )
        .await;
        let el = self.element(css).await;
        self.call(
            reqwest::Method::POST,
            &format!("/element/{el}/value"),
            Some(json!({"text": text})),
        )
        .await;
    }

    pub async fn text(&self, css: &str) -> String {
        let el = self.element(css).await;
        let v = self
            .call(reqwest::Method::GET, &format!("/element/{el}/text"), None)
            .await;
        v.as_str().unwrap_or_default().to_string()
    }

    /// The whole page, however long, as a PNG.
    pub async fn screenshot(&self, path: &str) {
        use base64::Engine;
        let height = self
            .script("return document.documentElement.scrollHeight", json!([]))
            .await;
        let height = height.as_u64().unwrap_or(900).max(900);
        self.resize(height + 100).await;
        let png = self.call(reqwest::Method::GET, "/screenshot", None).await;
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(png.as_str().unwrap_or_default())
            .expect("a PNG");
        std::fs::write(path, bytes).expect("write the screenshot");
        self.resize(self.height.into()).await;
    }

    pub async fn quit(&self) {
        let _ = self.client.delete(&self.url).send().await;
    }

    /// Whether the session's window is a phone's: no wider than 390 px.
    pub fn is_phone(&self) -> bool {
        u64::from(self.width) <= PHONE_WIDTH
    }

    /// Sets the window to the session's width and `height`.
    async fn resize(&self, height: u64) {
        self.resize_to(self.width.into(), height).await;
    }

    /// Sets the window to `width` x `height`.
    pub async fn resize_to(&self, width: u64, height: u64) {
        let rect = json!({"width": width, "height": height});
        self.call(reqwest::Method::POST, "/window/rect", Some(rect))
            .await;
    }

    /// Takes the network away from the page, or gives it back: ChromeDriver's network emulation,
    /// which it applies again after each navigation (DevTools' own, set through `Network`, was
    /// sometimes lost when the page was opened again). Even so a page load leaves a moment without
    /// it; a walk that must send nothing across one shuts a [`Gate`] too.
    pub async fn offline(&self, offline: bool) {
        let path = "/chromium/network_conditions";
        if offline {
            let conditions = json!({"offline": true, "latency": 0, "download_throughput": -1,
                                    "upload_throughput": -1});
            let body = json!({ "network_conditions": conditions });
            self.call(reqwest::Method::POST, path, Some(body)).await;
        } else {
            self.call(reqwest::Method::DELETE, path, None).await;
        }
    }

    /// Runs axe-core on the page as it stands; panics, listing them, on any serious or critical
    /// violation. Does nothing when `axe` is None (axe-core is not installed and not required).
    pub async fn assert_accessible(&self, axe: Option<&str>, screen: &str) {
        let Some(axe) = axe else { return };
        let script = format!(
            "{axe}\n;const done = arguments[arguments.length - 1];
             window.axe.run(document, {{resultTypes: ['violations']}}).then(r => done(
               r.violations.filter(v => v.impact === 'serious' || v.impact === 'critical')
                 .map(v => ({{id: v.id, impact: v.impact, help: v.help,
                   nodes: v.nodes.slice(0, 5).map(n => n.target.join(' ') + ': ' + n.failureSummary)}}))),
               e => done([{{id: 'axe failed', help: String(e)}}]));"
        );
        let found = self
            .call(
                reqwest::Method::POST,
                "/execute/async",
                Some(json!({"script": script, "args": []})),
            )
            .await;
        let found = found.as_array().cloned().unwrap_or_default();
        assert!(
            found.is_empty(),
            "axe-core on {screen}: {:#}",
            Value::Array(found)
        );
    }
}

/// The axe-core release the accessibility checks run, installed from npm by `.ci/run`.
pub const AXE_VERSION: &str = "4.10.3";

/// Fails when the browser's console holds a warning or an error, but those whose message contains
/// one of `expected` (a status the walk asked for, such as "status of 422").
pub async fn assert_quiet_console(b: &Browser, expected: &[&str]) {
    let log = b
        .call(
            reqwest::Method::POST,
            "/se/log",
            Some(json!({"type": "browser"})),
        )
        .await;
    let problems: Vec<&Value> = log
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["level"] == "SEVERE" || e["level"] == "WARNING")
        .filter(|e| {
            let message = e["message"].as_str().unwrap_or("");
            !expected.iter().any(|x| message.contains(x))
        })
        .collect();
    assert!(problems.is_empty(), "the browser's console: {problems:#?}");
}

/// Runs `walk` in a new browser window of `width` x `height` CSS pixels, as a task of its own so
/// that a failed step still closes the browser; then goes on with the walk's panic, if any. Does
/// nothing where Chromium is missing and not required (see [`ChromeDriver::start`]).
pub async fn in_browser<F, Fut>(width: u32, height: u32, walk: F)
where
    F: FnOnce(Arc<Browser>) -> Fut,
    Fut: Future<Output = ()> + Send + 'static,
{
    let Some(driver) = ChromeDriver::start().await else {
        return;
    };
    let browser = Arc::new(driver.session_at(width, height).await);
    let outcome = tokio::spawn(walk(browser.clone())).await;
    browser.quit().await;
    driver.stop().await;
    if let Err(e) = outcome {
        std::panic::resume_unwind(e.into_panic());
    }
}

/// Every element showing text of its own (or a control's), and its computed font size, if under 11 px.
pub const SMALL_TEXT: &str = "
    const small = [];
    for (const el of document.body.querySelectorAll('*')) {
      if (!el.checkVisibility({visibilityProperty: true})) continue;
      const own = [...el.childNodes].some(n => n.nodeType === Node.TEXT_NODE && n.textContent.trim());
      if (!own && !el.matches('input, select, textarea, button')) continue;
      const size = parseFloat(getComputedStyle(el).fontSize);
      if (size < 11) small.push(`${el.tagName} ${size}px: ${el.textContent.trim().slice(0, 40)}`);
    }
    return small;";

/// Asserts that the page, in a phone's window, fits it: nothing wider than its 390 px, so that it
/// never scrolls sideways, and no text under 11 px.
pub async fn assert_fits_a_phone(b: &Browser, screen: &str) {
    let wide = b
        .script("return document.documentElement.scrollWidth", json!([]))
        .await;
    assert!(
        wide.as_u64().unwrap() <= PHONE_WIDTH,
        "{screen}: {wide} px wide, more than a phone's {PHONE_WIDTH}"
    );
    let small = b.script(SMALL_TEXT, json!([])).await;
    assert_eq!(small, json!([]), "{screen}: text under 11 px");
}

/// Runs axe-core on the page (see [`Browser::assert_accessible`]) once the toast is gone: a toast
/// fading out is half transparent, and axe-core would measure its contrast so.
pub async fn assert_accessible_once_toast_gone(b: &Browser, screen: &str) {
    b.until(
        "the toast to be gone",
        "return getComputedStyle(document.getElementById('toast')).visibility === 'hidden'",
    )
    .await;
    b.assert_accessible(axe(), screen).await;
}

/// Where [`check_screen`] holds a screen to a phone's width.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum PhoneCheck {
    /// Only in a phone's session.
    IfPhone,
    /// In any session: a larger window is narrowed to a phone's for the checks, and set back.
    Narrowing,
}

/// A walk's look at a screen: a screenshot at the session's size, `{shot}.png` in the folder that
/// `DASHBOARD_SCREENSHOTS` names (if it names one); then, at a phone's width (see [`PhoneCheck`]),
/// the screen fits ([`assert_fits_a_phone`]) and axe-core finds nothing serious on it
/// ([`assert_accessible_once_toast_gone`]). `screen` names it in the messages.
pub async fn check_screen(b: &Browser, shot: &str, screen: &str, phone: PhoneCheck) {
    if let Ok(dir) = std::env::var("DASHBOARD_SCREENSHOTS") {
        b.screenshot(&format!("{dir}/{shot}.png")).await;
    }
    let narrow = match phone {
        _ if b.is_phone() => false,
        PhoneCheck::Narrowing => true,
        PhoneCheck::IfPhone => return,
    };
    if narrow {
        b.resize_to(PHONE_WIDTH, PHONE_HEIGHT).await;
    }
    assert_fits_a_phone(b, screen).await;
    assert_accessible_once_toast_gone(b, screen).await;
    if narrow {
        b.resize(b.height.into()).await;
    }
}

/// axe-core's source (see [`axe_source`]), read once.
fn axe() -> Option<&'static str> {
    static AXE: OnceLock<Option<String>> = OnceLock::new();
    AXE.get_or_init(axe_source).as_deref()
}

/// axe-core's `axe.min.js`, from `AFTERCARE_AXE` or `.ci/run`'s install under
/// `$HOME/.cache/aftercare/`; None, with a notice, where it is missing, unless
/// `AFTERCARE_BROWSER_TEST=required`.
pub fn axe_source() -> Option<String> {
    let path = std::env::var_os("AFTERCARE_AXE").map_or_else(
        || {
            let home = std::env::var_os("HOME").unwrap_or_default();
            PathBuf::from(home).join(format!(
                ".cache/aftercare/axe-{AXE_VERSION}/node_modules/axe-core/axe.min.js"
            ))
        },
        PathBuf::from,
    );
    match std::fs::read_to_string(&path) {
        Ok(source) => Some(source),
        Err(e) => {
            let message = format!(
                "{}: {e}: the accessibility checks run axe-core; install it with \
                 `npm install --prefix ~/.cache/aftercare/axe-{AXE_VERSION} axe-core@{AXE_VERSION}` \
                 (as .ci/run does)",
                path.display()
            );
            assert!(
                std::env::var("AFTERCARE_BROWSER_TEST").as_deref() != Ok("required"),
                "{message}"
            );
            eprintln!("skipped the accessibility checks: {message}");
            None
        }
    }
}

/// A door between the browser and the server that a test can shut: a TCP relay on a port of its
/// own that, while shut, cuts every connection through it and drops new ones. The network is then
/// truly gone for the page, through a page load too, where the browser's emulated offline (set
/// again by ChromeDriver after each navigation) leaves a moment in which the app can send.
pub struct Gate {
    /// The relay's `http://127.0.0.1:port`: open the app at it.
    pub base: String,
    open: tokio::sync::watch::Sender<bool>,
}

impl Gate {
    /// A relay to `upstream` (`http://127.0.0.1:port`), open.
    pub async fn to(upstream: &str) -> Gate {
        let target = upstream.trim_start_matches("http://").to_string();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let (open, watch) = tokio::sync::watch::channel(true);
        tokio::spawn(async move {
            while let Ok((mut inbound, _)) = listener.accept().await {
                let mut gate = watch.clone();
                if !*gate.borrow() {
                    continue;
                }
                let target = target.clone();
                tokio::spawn(async move {
                    let Ok(mut outbound) = tokio::net::TcpStream::connect(&target).await else {
                        return;
                    };
                    tokio::select! {
                        _ = tokio::io::copy_bidirectional(&mut inbound, &mut outbound) => {}
                        _ = gate.wait_for(|open| !open) => {}
                    }
                });
            }
        });
        Gate { base, open }
    }

    pub fn shut(&self, shut: bool) {
        self.open.send_replace(!shut);
    }
}

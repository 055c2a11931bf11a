//! A real browser for the console's tests: Debian's Chromium driven through
//! ChromeDriver with the W3C WebDriver protocol (plain JSON over HTTP, so a
//! small synchronous client over `ureq` is all the tests need). Headless,
//! no sandbox (CI runs as root), a fixed 1280x800 window so screenshots
//! compare. When Chromium or its driver is missing the tests fail, saying
//! how to install them (`.ci/run` does) — they never skip.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{json, Value};

const ELEMENT: &str = "element-6066-11e4-a52e-4f735466cecf";

/// A program found on the PATH, as `.ci/run` looks for it.
fn program(name: &str) -> PathBuf {
    std::env::var_os("PATH")
        .iter()
        .flat_map(std::env::split_paths)
        .map(|dir| dir.join(name))
        .find(|path| path.is_file())
        .unwrap_or_else(|| panic!(
            "the console's browser tests need `{name}` on the PATH: install the Debian packages `chromium` and `chromium-driver` (bash .ci/run does)"
        ))
}

/// The browser tests, one at a time: each starts a server and one or two
/// browsers, and two cores are enough for one such test only.
pub fn one_at_a_time() -> std::sync::MutexGuard<'static, ()> {
    static ONE: std::sync::Mutex<()> = std::sync::Mutex::new(());
    ONE.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// ChromeDriver's process, ended on drop (also when a session never started).
struct Driver(Child);

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// A ChromeDriver process with one browser session, both ended on drop.
pub struct Browser {
    _driver: Driver,
    endpoint: String,
    session: String,
    /// Where the browser saves downloads.
    pub downloads: tempfile::TempDir,
}

impl Drop for Browser {
    fn drop(&mut self) {
        let _ = ureq::delete(&format!("{}/session/{}", self.endpoint, self.session)).call();
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

impl Browser {
    pub fn new() -> Browser {
        let chromium = program("chromium");
        let chromedriver = program("chromedriver");
        let downloads = tempfile::tempdir().unwrap();
        // The driver's own log, for when a session does not start.
        let log = std::env::temp_dir().join(format!(
            "usage-report-chromedriver-{}.log",
            std::process::id()
        ));
        let port = free_port();
        let driver = Driver(
            Command::new(chromedriver)
                .arg(format!("--port={port}"))
                .arg(format!("--log-path={}", log.display()))
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .expect("ChromeDriver starts"),
        );
        let endpoint = format!("http://127.0.0.1:{port}");
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let ready = ureq::get(&format!("{endpoint}/status"))
                .call()
                .ok()
                .and_then(|r| r.into_json::<Value>().ok())
                .is_some_and(|v| v["value"]["ready"] == json!(true));
            if ready {
                break;
            }
            assert!(Instant::now() < deadline, "ChromeDriver did not start");
            std::thread::sleep(Duration::from_millis(100));
        }
        let capabilities = json!({"capabilities": {"alwaysMatch": {
            "browserName": "chrome",
            "goog:chromeOptions": {
                "binary": chromium,
                "args": ["--headless=new", "--no-sandbox", "--disable-gpu",
                         "--disable-dev-shm-usage", "--window-size=1280,800",
                         "--hide-scrollbars", "--force-device-scale-factor=1"],
                "prefs": {
                    "download.default_directory": downloads.path(),
                    "download.prompt_for_download": false,
                },
            },
        }}});
        let answer: Value = ureq::post(&format!("{endpoint}/session"))
            .send_json(capabilities)
            .unwrap_or_else(|e| {
                panic!(
                    "Chromium does not start a session: {} (ChromeDriver's log: {})",
                    describe(e),
                    log.display()
                )
            })
            .into_json()
            .unwrap();
        let session = answer["value"]["sessionId"].as_str().unwrap().to_string();
        Browser {
            _driver: driver,
            endpoint,
            session,
            downloads,
        }
    }

    fn command(&self, method: &str, path: &str, body: Option<Value>) -> Value {
        self.send(method, path, body)
            .unwrap_or_else(|e| panic!("WebDriver {method} {path}: {e}"))
    }

    /// A command that may fail (a stale element, say): `None` then.
    fn try_command(&self, method: &str, path: &str, body: Option<Value>) -> Option<Value> {
        self.send(method, path, body).ok()
    }

    fn send(&self, method: &str, path: &str, body: Option<Value>) -> Result<Value, String> {
        let url = format!("{}/session/{}{path}", self.endpoint, self.session);
        let request = ureq::request(method, &url);
        let result = match body {
            Some(b) => request.send_json(b),
            None => request.call(),
        };
        match result {
            Ok(r) => Ok(r.into_json::<Value>().unwrap()["value"].take()),
            Err(e) => Err(describe(e)),
        }
    }

    pub fn goto(&self, url: &str) {
        self.command("POST", "/url", Some(json!({ "url": url })));
    }

    pub fn url(&self) -> String {
        self.command("GET", "/url", None)
            .as_str()
            .unwrap()
            .to_string()
    }

    pub fn source(&self) -> String {
        self.command("GET", "/source", None)
            .as_str()
            .unwrap()
            .to_string()
    }

    /// Every element matching a CSS selector.
    pub fn all(&self, css: &str) -> Vec<String> {
        self.command(
            "POST",
            "/elements",
            Some(json!({"using": "css selector", "value": css})),
        )
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e[ELEMENT].as_str().unwrap().to_string())
        .collect()
    }

    /// The one element matching a CSS selector (panics naming it otherwise).
    pub fn find(&self, css: &str) -> String {
        let all = self.all(css);
        assert!(
            !all.is_empty(),
            "no element {css} on {}:\n{}",
            self.url(),
            self.text("main")
        );
        all[0].clone()
    }

    pub fn exists(&self, css: &str) -> bool {
        !self.all(css).is_empty()
    }

    /// Clicks an element; when it is a link or a submit button, waits for
    /// the page it leads to (the old page's elements gone, the new one
    /// loaded).
    pub fn click(&self, css: &str) {
        let element = self.find(css);
        let tag = self.property(&element, "tagName").to_ascii_lowercase();
        let navigates =
            tag == "a" || (tag == "button" && self.property(&element, "type") == "submit");
        if !navigates {
            return self.click_element(&element);
        }
        let old = self.find("html");
        self.click_element(&element);
        self.wait_for(30, "the next page", |b| {
            let gone = b
                .try_command("GET", &format!("/element/{old}/name"), None)
                .is_none();
            gone && b.script("return document.readyState;") == json!("complete")
        });
    }

    /// Clicks a button that starts a download (the page stays).
    pub fn click_to_download(&self, css: &str) {
        let element = self.find(css);
        self.click_element(&element);
    }

    pub fn click_element(&self, element: &str) {
        self.command(
            "POST",
            &format!("/element/{element}/click"),
            Some(json!({})),
        );
    }

    /// Replaces a text field's content.
    pub fn fill(&self, css: &str, text: &str) {
        let element = self.find(css);
        self.command(
            "POST",
            &format!("/element/{element}/clear"),
            Some(json!({})),
        );
        self.command(
            "POST",
            &format!("/element/{element}/value"),
            Some(json!({ "text": text })),
        );
    }

    /// Chooses the option of a select whose value is `value`.
    pub fn choose(&self, select: &str, value: &str) {
        for option in self.all(&format!("{select} option")) {
            if self.property(&option, "value") == value {
                return self.click_element(&option);
            }
        }
        panic!("{select} has no option {value:?}");
    }

    pub fn property(&self, element: &str, name: &str) -> String {
        match self.command("GET", &format!("/element/{element}/property/{name}"), None) {
            Value::String(s) => s,
            other => other.to_string(),
        }
    }

    /// The visible text of the first element matching `css`.
    pub fn text(&self, css: &str) -> String {
        match self.all(css).first() {
            Some(e) => self
                .try_command("GET", &format!("/element/{e}/text"), None)
                .and_then(|v| v.as_str().map(str::to_string))
                .unwrap_or_default(),
            None => String::new(),
        }
    }

    /// Runs a script in the page (the driver's, not subject to the page's
    /// content policy) and returns its value.
    pub fn script(&self, body: &str) -> Value {
        self.command(
            "POST",
            "/execute/sync",
            Some(json!({"script": body, "args": []})),
        )
    }

    pub fn cookie(&self, name: &str) -> String {
        self.command("GET", &format!("/cookie/{name}"), None)["value"]
            .as_str()
            .unwrap()
            .to_string()
    }

    pub fn window(&self, width: u32, height: u32) {
        self.command(
            "POST",
            "/window/rect",
            Some(json!({"width": width, "height": height})),
        );
    }

    /// A PNG of the viewport into `dir/name.png` when `CONSOLE_SCREENSHOTS`
    /// names a folder (for people to look at; the tests never compare them).
    pub fn screenshot(&self, name: &str) {
        let Some(dir) = std::env::var_os("CONSOLE_SCREENSHOTS") else {
            return;
        };
        let data = self.command("GET", "/screenshot", None);
        let bytes = base64_decode(data.as_str().unwrap());
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(Path::new(&dir).join(format!("{name}.png")), bytes).unwrap();
    }

    /// Waits until `done` holds, up to `seconds`.
    pub fn wait_for(&self, seconds: u64, what: &str, mut done: impl FnMut(&Browser) -> bool) {
        let deadline = Instant::now() + Duration::from_secs(seconds);
        while !done(self) {
            assert!(
                Instant::now() < deadline,
                "waited {seconds} s for {what} on {}:\n{}",
                self.url(),
                self.text("main")
            );
            std::thread::sleep(Duration::from_millis(200));
        }
    }

    /// The downloaded file ending in `.EXTENSION`, once complete: no
    /// download in progress and its size the same twice 200 ms apart.
    pub fn downloaded(&self, extension: &str) -> PathBuf {
        let mut last: Option<(PathBuf, u64)> = None;
        let mut found = None;
        self.wait_for(60, &format!("a .{extension} download"), |_| {
            let files: Vec<PathBuf> = std::fs::read_dir(self.downloads.path())
                .unwrap()
                .flatten()
                .map(|e| e.path())
                .collect();
            let busy = files.iter().any(|p| {
                let name = p.file_name().unwrap().to_string_lossy();
                name.starts_with('.') || name.ends_with(".crdownload") || name.ends_with(".tmp")
            });
            let now = files
                .into_iter()
                .find(|p| p.extension().is_some_and(|e| e == extension))
                .filter(|_| !busy)
                .map(|p| {
                    let size = std::fs::metadata(&p).map_or(0, |m| m.len());
                    (p, size)
                });
            if now.is_some() && now == last && now.as_ref().is_some_and(|(_, size)| *size > 0) {
                found = now.map(|(p, _)| p);
                return true;
            }
            last = now;
            false
        });
        found.unwrap()
    }
}

fn describe(e: ureq::Error) -> String {
    match e {
        ureq::Error::Status(code, r) => format!("{code} {}", r.into_string().unwrap_or_default()),
        other => other.to_string(),
    }
}

fn base64_decode(text: &str) -> Vec<u8> {
    let value = |c: u8| -> u32 {
        match c {
            b'A'..=b'Z' => (c - b'A') as u32,
            b'a'..=b'z' => (c - b'a' + 26) as u32,
            b'0'..=b'9' => (c - b'0' + 52) as u32,
            b'+' => 62,
            _ => 63,
        }
    };
    let bytes: Vec<u8> = text
        .bytes()
        .filter(|b| *b != b'=' && !b.is_ascii_whitespace())
        .collect();
    let mut out = Vec::with_capacity(bytes.len() * 3 / 4);
    for chunk in bytes.chunks(4) {
        let n = chunk
            .iter()
            .enumerate()
            .fold(0u32, |acc, (i, c)| acc | value(*c) << (18 - 6 * i));
        out.push((n >> 16) as u8);
        if chunk.len() > 2 {
            out.push((n >> 8) as u8);
        }
        if chunk.len() > 3 {
            out.push(n as u8);
        }
    }
    out
}

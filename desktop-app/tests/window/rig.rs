//! What a window test needs around it: an Xvfb display, and per POS window a `tauri-driver`
//! (with Debian's `WebKitWebDriver` behind it) that starts the real `lapak-desktop` binary with
//! its own data directory. Every process runs in its own process group and is stopped with it,
//! so a failing test leaves no window, driver or display behind.

use std::io::{BufRead as _, BufReader};
use std::net::TcpListener;
use std::os::unix::process::CommandExt as _;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::json;

use crate::webdriver::Session;

/// The POS binary cargo built for this test.
const APP: &str = env!("CARGO_BIN_EXE_lapak-desktop");

/// A running process group, stopped (SIGTERM, then SIGKILL) when dropped.
struct Group {
    child: Child,
}

impl Group {
    fn spawn(command: &mut Command) -> std::io::Result<Group> {
        command
            .process_group(0)
            .spawn()
            .map(|child| Group { child })
    }
}

impl Drop for Group {
    fn drop(&mut self) {
        let group = format!("-{}", self.child.id());
        let _ = Command::new("kill").args(["-TERM", "--", &group]).status();
        let deadline = Instant::now() + Duration::from_secs(3);
        while Instant::now() < deadline {
            if matches!(self.child.try_wait(), Ok(Some(_))) {
                break;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = Command::new("kill").args(["-KILL", "--", &group]).status();
        let _ = self.child.wait();
    }
}

/// An X display of its own (Xvfb) and the tools to open POS windows on it, side by side:
/// with no window manager, a window under another never paints, and WebKit's screenshot of
/// it waits for a frame that never comes.
pub struct Rig {
    display: String,
    driver: PathBuf,
    opened: std::sync::atomic::AtomicU32,
    _xvfb: Group,
}

/// Finds `name` on `PATH` (and in `~/.cargo/bin`, where `cargo install` puts tauri-driver).
fn tool(name: &str) -> PathBuf {
    let mut dirs: Vec<PathBuf> =
        std::env::split_paths(&std::env::var_os("PATH").unwrap_or_default()).collect();
    if let Some(home) = std::env::var_os("HOME") {
        dirs.push(Path::new(&home).join(".cargo/bin"));
    }
    dirs.into_iter()
        .map(|d| d.join(name))
        .find(|p| p.is_file())
        .unwrap_or_else(|| {
            panic!(
                "`{name}` is not installed: the window tests need xvfb, webkit2gtk-driver and \
                 tauri-driver; ./scripts/test.sh installs them"
            )
        })
}

impl Rig {
    /// Starts Xvfb on the first free display.
    pub fn start() -> Rig {
        let xvfb = tool("Xvfb");
        let driver = tool("tauri-driver");
        tool("WebKitWebDriver");
        let mut command = Command::new(xvfb);
        command
            .args([
                "-displayfd",
                "1",
                "-screen",
                "0",
                "2740x800x24",
                "-nolisten",
                "tcp",
            ])
            .stdout(Stdio::piped())
            .stderr(Stdio::null());
        let mut group = Group::spawn(&mut command).expect("starting Xvfb");
        let mut line = String::new();
        BufReader::new(group.child.stdout.take().unwrap())
            .read_line(&mut line)
            .expect("Xvfb prints its display number");
        let number = line.trim();
        assert!(!number.is_empty(), "Xvfb did not start");
        Rig {
            display: format!(":{number}"),
            driver,
            opened: std::sync::atomic::AtomicU32::new(0),
            _xvfb: group,
        }
    }

    /// Starts `lapak-desktop --data-dir <dir>` in a window driven through WebDriver.
    pub async fn open(&self, dir: &Path) -> Window {
        let [port, native] = free_ports();
        let mut command = Command::new(&self.driver);
        command
            .args([
                "--port",
                &port.to_string(),
                "--native-port",
                &native.to_string(),
            ])
            .env("DISPLAY", &self.display)
            // WebKitGTK's DMA-BUF renderer draws a blank page under Xvfb.
            .env("WEBKIT_DISABLE_DMABUF_RENDERER", "1")
            .env("RUST_LOG", "warn")
            .stdout(Stdio::null());
        let driver = Group::spawn(&mut command).expect("starting tauri-driver");
        let url = format!("http://127.0.0.1:{port}");
        // tauri-driver listens before the WebKitWebDriver it starts does, and a session asked
        // for in between is dropped unanswered (tauri-apps/tauri#15156): wait for both.
        wait_until_listening(port, "tauri-driver").await;
        wait_until_listening(native, "WebKitWebDriver").await;
        let page = Session::start(
            &url,
            json!({
                "tauri:options": {
                    "application": APP,
                    "args": ["--data-dir", dir.to_str().unwrap()],
                }
            }),
        )
        .await;
        let slot = self
            .opened
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed)
            % 2;
        let x = 1370 * slot;
        page.set_window_rect(x, 0, WIDTH, HEIGHT).await;
        Window {
            page,
            display: self.display.clone(),
            x,
            _driver: driver,
        }
    }
}

/// One POS window: its WebDriver session, where it is on the display, and the driver behind it.
pub struct Window {
    pub page: Session,
    display: String,
    x: u32,
    _driver: Group,
}

/// The size of a POS window (a common counter screen).
const WIDTH: u32 = 1366;
const HEIGHT: u32 = 768;

impl Window {
    /// A PNG of the window as the X server shows it (ImageMagick's `import`). WebDriver's own
    /// screenshot waits for WebKitGTK to draw a new frame, which an idle page under Xvfb may
    /// never do.
    pub fn screenshot(&self, path: &Path) {
        let status = Command::new("import")
            .args(["-window", "root", "-crop"])
            .arg(format!("{WIDTH}x{HEIGHT}+{}+0", self.x))
            .arg(path)
            .env("DISPLAY", &self.display)
            .status()
            .expect("ImageMagick's `import` takes the screenshots: apt-get install imagemagick");
        assert!(status.success(), "import failed for {}", path.display());
    }

    /// Closes the window (ends the session; the driver goes with it).
    pub async fn close(self) {
        self.page.end().await;
    }
}

/// Two distinct free ports (both held while the second is chosen, so they cannot be the same).
fn free_ports() -> [u16; 2] {
    let bind = || TcpListener::bind("127.0.0.1:0").expect("a free port");
    let (first, second) = (bind(), bind());
    [first, second].map(|l| l.local_addr().expect("a bound address").port())
}

async fn wait_until_listening(port: u16, who: &str) {
    let deadline = Instant::now() + Duration::from_secs(20);
    while tokio::net::TcpStream::connect(("127.0.0.1", port))
        .await
        .is_err()
    {
        assert!(Instant::now() < deadline, "{who} did not listen on {port}");
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
}

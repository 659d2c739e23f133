//! Sign-in limits behind a real reverse proxy (Debian's nginx, started by the test): the client
//! address is the one the trusted proxy forwards for, a forged one is ignored, an attacker's
//! failures don't lock the owner out, and the shared lock is no oracle (issue 24, point 1).

use std::net::{IpAddr, TcpListener};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use aftercare::config::Cidr;
use aftercare::config::HttpSettings;
use aftercare::startup::Background;
use aftercare::web::limits::{FREE_FAILURES, FREE_SHARED_FAILURES, PER_ADDRESS};
use serde_json::{Value, json};

use crate::helpers::*;

const NGINX: &str = "/usr/sbin/nginx";

/// nginx in front of the app, as the README's deployment has it: one process, unprivileged
/// paths in a temporary directory, appending the client's address to `X-Forwarded-For`.
struct Proxy {
    base: String,
    child: Child,
    dir: PathBuf,
}

impl Drop for Proxy {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

impl Proxy {
    async fn start(app: &TestApp) -> Proxy {
        assert!(
            std::path::Path::new(NGINX).exists(),
            "these tests need nginx: apt-get install nginx-light (.ci/run installs it)"
        );
        let dir = std::env::temp_dir().join(format!("aftercare-nginx-{}", uuid::Uuid::new_v4()));
        std::fs::create_dir_all(&dir).expect("temp dir");
        let d = dir.display();
        let port = TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("a free port")
            .port();
        let upstream = app.base.trim_start_matches("http://");
        let conf = format!(
            r#"worker_processes 1;
pid {d}/nginx.pid;
error_log {d}/error.log;
events {{ worker_connections 64; }}
http {{
  access_log off;
  client_body_temp_path {d}/body;
  proxy_temp_path {d}/proxy;
  fastcgi_temp_path {d}/fastcgi;
  uwsgi_temp_path {d}/uwsgi;
  scgi_temp_path {d}/scgi;
  server {{
    listen 127.0.0.1:{port};
    location / {{
      proxy_pass http://{upstream};
      proxy_set_header Host $host;
      proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
    }}
  }}
}}
"#
        );
        let path = dir.join("nginx.conf");
        std::fs::write(&path, conf).expect("write nginx.conf");
        let child = Command::new(NGINX)
            .arg("-p")
            .arg(&dir)
            .arg("-e")
            .arg(dir.join("error.log"))
            .arg("-c")
            .arg(&path)
            .args(["-g", "daemon off; master_process off;"])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start nginx");
        let proxy = Proxy {
            base: format!("http://127.0.0.1:{port}"),
            child,
            dir,
        };
        for _ in 0..100 {
            if tokio::net::TcpStream::connect(("127.0.0.1", port))
                .await
                .is_ok()
            {
                return proxy;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        let log = std::fs::read_to_string(proxy.dir.join("error.log")).unwrap_or_default();
        panic!("nginx did not start: {log}");
    }
}

/// A client on its own loopback address (the proxy sees it as the peer).
fn client_at(addr: [u8; 4]) -> reqwest::Client {
    reqwest::Client::builder()
        .local_address(IpAddr::from(addr))
        .build()
        .expect("client")
}

/// A request from `from` to `base`, with these extra headers.
async fn post_from(
    base: &str,
    from: [u8; 4],
    path: &str,
    body: Value,
    headers: &[(&str, &str)],
) -> Resp {
    let mut req = client_at(from).post(format!("{base}{path}")).json(&body);
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    into_resp(req.send().await.expect("request")).await
}

async fn login(
    base: &str,
    from: [u8; 4],
    email: &str,
    password: &str,
    headers: &[(&str, &str)],
) -> Resp {
    let body = json!({"email": email, "password": password});
    post_from(base, from, "/v1/auth/login", body, headers).await
}

/// The app trusting the proxy on 127.0.0.1.
async fn app_behind_proxy() -> TestApp {
    spawn_app_with(
        HttpSettings {
            trusted_proxies: vec![Cidr::parse("127.0.0.1/32").unwrap()],
            ..HttpSettings::default()
        },
        Background::default(),
    )
    .await
}

/// A staff member of a new clinic; their email.
async fn staff_member(app: &TestApp) -> String {
    let clinic = app.clinic("Proxied", "Europe/Berlin").await;
    let email = "owner@proxied.example";
    let body = json!({"email": email, "password": PASSWORD, "role": "clinician", "name": "Ada"});
    app.post("/v1/staff", &clinic.admin, body).await.ok(201);
    email.to_string()
}

/// The `Cookie` header that sends back the device cookie a sign-in set.
fn device_cookie(signed_in: &Resp) -> String {
    let set = signed_in
        .headers
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with("aftercare_device="))
        .expect("a device cookie")
        .to_string();
    for attribute in ["HttpOnly", "SameSite=Strict", "Path=/v1/auth/login"] {
        assert!(set.contains(attribute), "{set}");
    }
    set.split(';').next().unwrap().to_string()
}

#[tokio::test]
async fn an_attackers_failures_through_the_proxy_do_not_lock_the_owner_out() {
    let app = app_behind_proxy().await;
    let proxy = Proxy::start(&app).await;
    let email = staff_member(&app).await;
    let (attacker, owner) = ([127, 0, 0, 2], [127, 0, 0, 3]);
    // The attacker even claims to be the owner's address: the proxy appends its real one.
    let forged = [("x-forwarded-for", "127.0.0.3")];
    let mut statuses = vec![];
    for _ in 0..FREE_FAILURES + 2 {
        let r = login(&proxy.base, attacker, &email, "wrong-password-1", &forged).await;
        statuses.push(r.status);
    }
    let free = FREE_FAILURES as usize;
    assert!(statuses[..free].iter().all(|s| *s == 401), "{statuses:?}");
    assert!(statuses[free..].iter().all(|s| *s == 429), "{statuses:?}");
    // Past the free failures the lock doubles with each failure let through (1 s, 2 s, 4 s, 8 s).
    // Three more, each as the last lock ends, leave it 8 s long, so that the two sign-ins below
    // (each checks a password) run under it even on a loaded machine.
    for seconds in [1, 2, 4] {
        tokio::time::sleep(Duration::from_millis(seconds * 1000 + 100)).await;
        login(&proxy.base, attacker, &email, "wrong-password-1", &forged).await;
    }
    // Before issue 24 every client behind the proxy was 127.0.0.1, so this was a 429 too.
    login(&proxy.base, owner, &email, PASSWORD, &[])
        .await
        .ok(200);
    // The attacker's address is still locked out, right password or not.
    login(&proxy.base, attacker, &email, PASSWORD, &[])
        .await
        .problem(429);
}

#[tokio::test]
async fn under_the_shared_lock_a_known_device_signs_in_and_no_one_else_learns_the_password() {
    let app = app_behind_proxy().await;
    let proxy = Proxy::start(&app).await;
    let email = staff_member(&app).await;
    // The owner signed in from this browser before.
    let first = login(&proxy.base, [127, 0, 0, 3], &email, PASSWORD, &[]).await;
    first.ok(200);
    let cookie = device_cookie(&first);
    // A guesser spreads wrong passwords over many addresses, a few each.
    let addresses = FREE_SHARED_FAILURES.div_ceil(FREE_FAILURES);
    for n in 0..addresses {
        for _ in 0..FREE_FAILURES {
            login(
                &proxy.base,
                [127, 0, 1, n as u8],
                &email,
                "wrong-password-1",
                &[],
            )
            .await
            .problem(401);
        }
    }
    // Past the free failures the shared lock doubles with each one (1 s, 2 s, 4 s, 8 s). Three more,
    // each as the last lock ends, leave it 8 s long, so that what follows runs under it even on a
    // loaded machine (each sign-in below checks a password).
    for (n, seconds) in [1, 2, 4].into_iter().enumerate() {
        tokio::time::sleep(Duration::from_millis(seconds * 1000 + 100)).await;
        login(
            &proxy.base,
            [127, 0, 3, n as u8],
            &email,
            "wrong-password-1",
            &[],
        )
        .await
        .problem(401);
    }
    // The account is now locked for clients it doesn't know: the guesser's right password and a
    // wrong one get the same answer, from a fresh address.
    let right = login(&proxy.base, [127, 0, 2, 1], &email, PASSWORD, &[]).await;
    let wrong = login(&proxy.base, [127, 0, 2, 2], &email, "wrong-password-2", &[]).await;
    let (right, wrong) = (right.problem(429).clone(), wrong.problem(429).clone());
    for field in ["type", "title", "status", "detail"] {
        assert_eq!(right[field], wrong[field], "{field}: {right:#} {wrong:#}");
    }
    // The owner's browser signs in, from their address or even the guesser's.
    let cookie_header = [("cookie", cookie.as_str())];
    let again = login(
        &proxy.base,
        [127, 0, 0, 3],
        &email,
        PASSWORD,
        &cookie_header,
    )
    .await;
    again.ok(200);
    login(
        &proxy.base,
        [127, 0, 1, 0],
        &email,
        PASSWORD,
        &cookie_header,
    )
    .await
    .ok(200);
    // The cookie keeps its device: the one it sets again works as well.
    let renewed = device_cookie(&again);
    login(
        &proxy.base,
        [127, 0, 2, 3],
        &email,
        PASSWORD,
        &[("cookie", renewed.as_str())],
    )
    .await
    .ok(200);
    // A forged or another account's cookie is no help.
    let tampered = format!("{}x", cookie);
    login(
        &proxy.base,
        [127, 0, 2, 4],
        &email,
        PASSWORD,
        &[("cookie", tampered.as_str())],
    )
    .await
    .problem(429);
}

#[tokio::test]
async fn a_forged_forwarded_for_sent_straight_to_the_app_is_ignored() {
    let app = app_behind_proxy().await;
    let email = staff_member(&app).await;
    // Not through the proxy: 127.0.0.2 is no trusted proxy, so its headers name no one.
    let mut statuses = vec![];
    for n in 0..FREE_FAILURES + 2 {
        let forged = format!("198.51.100.{n}");
        let headers = [
            ("x-forwarded-for", forged.as_str()),
            ("forwarded", &*format!("for={forged}")),
        ];
        let r = login(
            &app.base,
            [127, 0, 0, 2],
            &email,
            "wrong-password-1",
            &headers,
        )
        .await;
        statuses.push(r.status);
    }
    let free = FREE_FAILURES as usize;
    assert!(statuses[..free].iter().all(|s| *s == 401), "{statuses:?}");
    assert!(statuses[free..].iter().all(|s| *s == 429), "{statuses:?}");
    // Another real address is another client.
    login(&app.base, [127, 0, 0, 3], &email, PASSWORD, &[])
        .await
        .ok(200);
}

#[tokio::test]
async fn a_flood_of_junk_from_a_shared_address_does_not_stop_refreshes_or_enrollments() {
    let app = app_behind_proxy().await;
    let proxy = Proxy::start(&app).await;
    let s = app.scenario("Carrier NAT").await;
    let nat = [127, 0, 0, 7];
    // One phone behind the carrier's NAT sends junk, far past the address's budget.
    let mut junk = vec![];
    for n in 0..PER_ADDRESS.attempts + 10 {
        let token = format!("junk-refresh-token-{n}");
        let body = json!({"refresh_token": token});
        junk.push(
            post_from(&proxy.base, nat, "/v1/auth/refresh", body, &[])
                .await
                .status,
        );
        let body = json!({"code": format!("JUNK-{n:04}-AAAA")});
        junk.push(
            post_from(&proxy.base, nat, "/v1/auth/enroll", body, &[])
                .await
                .status,
        );
    }
    assert!(junk.iter().all(|s| [401, 429].contains(s)), "{junk:?}");
    assert_eq!(junk.last(), Some(&429), "the junk is told to wait");
    // Another phone behind the same address refreshes its tokens and enrolls.
    let body = json!({"refresh_token": s.patients[0].refresh});
    post_from(&proxy.base, nat, "/v1/auth/refresh", body, &[])
        .await
        .ok(200);
    let patient = app.patient(&s.clinician, "MRN-NAT").await;
    let code = app
        .post(
            &format!("/v1/patients/{patient}/enrollment-codes"),
            &s.clinician,
            json!(null),
        )
        .await;
    let code = code.ok(201)["code"].as_str().unwrap().to_string();
    post_from(
        &proxy.base,
        nat,
        "/v1/auth/enroll",
        json!({"code": code}),
        &[],
    )
    .await
    .ok(200);
}

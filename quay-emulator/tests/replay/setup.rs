//! Puts a fresh emulator into the state a capture assumed, and swaps the capture's cookies,
//! CSRF tokens, bearer tokens and uuids for live ones.

use std::time::Duration;

use quay_emulator::{AppUpdate, Emulator};
use serde_json::{Value, json};

use super::parse::Transcript;
use super::raw::exchange;

/// Live values standing in for the capture's.
#[derive(Default, Debug)]
pub struct Live {
    pub sid: Option<String>,
    pub csrf: String,
    pub stale_csrf: String,
    pub bearer: Option<String>,
    pub uuid: Option<String>,
    /// A live `next_page` cursor of the token list (68b).
    pub next_page: Option<String>,
}

/// The non-superuser organization owner of the token API captures 66–66l.
pub const OWNER: &str = "towner630a6b";
const OWNER_ORG: &str = "torg630a6b";
const OWNER_APP: &str = "IXPV0ZOYJ4IT87VOA54E";
/// The owner, organization and application of the pagination captures 68, 68b.
pub const PG_OWNER: &str = "pgowner27a451";
const PG_ORG: &str = "pgorg27a451";
const PG_APP: &str = "SE7D7QDP1BQU0K7NUP7T";

/// The non-superuser owner of the organization applications captures 67–67r, someone outside
/// that organization, the organization and its applications.
pub const APPS_OWNER: &str = "aownerc9f3c0";
const APPS_OUTSIDER: &str = "aoutsiderc9f3c0";
const APPS_ORG: &str = "aorgc9f3c0";
const EXTAPP: &str = "Z7JNRSPKN7YASUNM8SIC";
const EXTAPP2: &str = "44I7GOH1COW74NIEDHRG";
const BYTOKEN: &str = "4J7E1FWFHB0OJ8CS95KN";

/// The password each captured account had.
pub fn password(user: &str) -> &'static str {
    match user {
        "admin" => "Sup3r53cr3L",
        "dwilde" => "Dw1ld3Passw0rd",
        _ => "Dr1ft-c6f9f8",
    }
}

/// The capture's instance: its users, organizations and applications with their client IDs.
pub fn base(emu: &Emulator) {
    for u in [
        "admin",
        "dwilde",
        "dvictimc6f9f8",
        "downerc6f9f8",
        "dmemberc6f9f8",
        OWNER,
        PG_OWNER,
        APPS_OWNER,
        APPS_OUTSIDER,
    ] {
        emu.add_user(u, password(u));
    }
    emu.set_superuser("admin", true);
    emu.add_org("production", "admin");
    emu.add_org(OWNER_ORG, OWNER);
    emu.add_org(PG_ORG, PG_OWNER);
    emu.add_org("dorgc6f9f8", "downerc6f9f8");
    for u in ["admin", "dmemberc6f9f8", "dvictimc6f9f8"] {
        emu.add_org_admin("dorgc6f9f8", u);
    }
    let local = format!("{}/oauth/localapp", emu.url());
    emu.add_app_with_client_id(
        "production",
        "quay-operator",
        Some(&local),
        Some("HPYVPQWFRF0K38SSK5QI"),
    );
    emu.add_app_with_client_id(
        "production",
        "capture-app-1795979497",
        Some("https://operator.example.com/callback"),
        Some("H7CBMVDA28B3RRZ4HK5D"),
    );
    emu.add_app_with_client_id(
        "dorgc6f9f8",
        "drift-app",
        Some(&local),
        Some("W4018R8Z2JXSWEU7Y3WA"),
    );
    emu.add_app_with_client_id(OWNER_ORG, "conformance-app", Some(&local), Some(OWNER_APP));
    emu.add_app_with_client_id(PG_ORG, "paging-app", Some(&local), Some(PG_APP));
    emu.add_org(APPS_ORG, APPS_OWNER);
    emu.add_app_with_client_id(
        APPS_ORG,
        "extapp",
        Some("http://redirecturi.example.com"),
        Some(EXTAPP),
    );
    let every_field = AppUpdate {
        description: Some("External application".into()),
        application_uri: Some("http://applicationuri.example.com".into()),
        avatar_email: Some(Some("avatar@example.com".into())),
        ..AppUpdate::default()
    };
    assert!(emu.update_app(EXTAPP, every_field), "setup: extapp exists");
}

fn pg_tokens_path() -> String {
    format!("/api/v1/organization/{PG_ORG}/applications/{PG_APP}/tokens")
}

/// Mints `n` tokens through the token API as the pagination owner, named as in 68.
async fn mint_pg_tokens(emu: &Emulator, n: usize) {
    let (sid, _, csrf) = session(emu, Some(PG_OWNER)).await;
    for i in 0..n {
        let body =
            json!({"name": format!("k8s:ns/t{i:02}:{i:08}"), "scope": "repo:read"}).to_string();
        let r = exchange(
            &host(emu),
            "POST",
            &pg_tokens_path(),
            &json_headers(&sid, &csrf),
            body.as_bytes(),
        )
        .await;
        assert_eq!(r.status, 200, "setup: mint {i}: {}", r.text());
    }
}

/// The `next_page` cursor of the first page of the pagination app's token list.
async fn first_page_cursor(emu: &Emulator) -> String {
    let (sid, _, _) = session(emu, Some(PG_OWNER)).await;
    let headers = vec![("Cookie".to_string(), format!("_csrf_token={sid}"))];
    let r = exchange(&host(emu), "GET", &pg_tokens_path(), &headers, b"").await;
    let v: Value = serde_json::from_slice(&r.body).expect("token list json");
    v["next_page"]
        .as_str()
        .expect("setup: the first page has a next_page")
        .to_string()
}

fn host(emu: &Emulator) -> String {
    emu.url().trim_start_matches("http://").to_string()
}

fn json_headers(sid: &str, csrf: &str) -> Vec<(String, String)> {
    vec![
        ("Cookie".into(), format!("_csrf_token={sid}")),
        ("X-CSRF-Token".into(), csrf.into()),
        ("Content-Type".into(), "application/json".into()),
    ]
}

/// A session: (session id, CSRF before sign-in, CSRF now); anonymous when `user` is None.
pub async fn session(emu: &Emulator, user: Option<&str>) -> (String, String, String) {
    let h = host(emu);
    let r = exchange(&h, "GET", "/csrf_token", &[], b"").await;
    let sid = r.cookie().expect("session cookie");
    let v: Value = serde_json::from_slice(&r.body).expect("csrf json");
    let pre = v["csrf_token"].as_str().expect("token").to_string();
    let Some(user) = user else {
        return (sid, pre.clone(), pre);
    };
    let body = json!({"username": user, "password": password(user)}).to_string();
    let r = exchange(
        &h,
        "POST",
        "/api/v1/signin",
        &json_headers(&sid, &pre),
        body.as_bytes(),
    )
    .await;
    let next = r
        .header("x-next-csrf-token")
        .expect("signed in")
        .to_string();
    (sid, pre, next)
}

/// Mints a token for `user` through `/oauth/authorizeapp`; returns (secret, uuid).
pub async fn mint(emu: &Emulator, user: &str, scopes: &str) -> (String, String) {
    let client = if user.ends_with("c6f9f8") {
        "W4018R8Z2JXSWEU7Y3WA"
    } else if user == APPS_OWNER {
        EXTAPP
    } else {
        "HPYVPQWFRF0K38SSK5QI"
    };
    // dwilde administers nothing: like the capture, the token comes from an assignment.
    let assignment = if user == "dwilde" {
        Some(assign(emu).await)
    } else {
        None
    };
    let (sid, _, csrf) = session(emu, Some(user)).await;
    let mut form = url::form_urlencoded::Serializer::new(String::new());
    form.append_pair("response_type", "token")
        .append_pair("client_id", client)
        .append_pair("redirect_uri", &format!("{}/oauth/localapp", emu.url()))
        .append_pair("scope", scopes)
        .append_pair("_csrf_token", &csrf);
    if let Some(a) = &assignment {
        form.append_pair("assignment_uuid", a);
    }
    let form = form.finish();
    let headers = vec![
        ("Cookie".to_string(), format!("_csrf_token={sid}")),
        (
            "Content-Type".to_string(),
            "application/x-www-form-urlencoded".to_string(),
        ),
    ];
    let r = exchange(
        &host(emu),
        "POST",
        "/oauth/authorizeapp",
        &headers,
        form.as_bytes(),
    )
    .await;
    let location = r
        .header("location")
        .unwrap_or_else(|| panic!("setup: mint for {user} answered {} {}", r.status, r.text()))
        .to_string();
    let secret = location.split("access_token=").nth(1).expect("token")[..40].to_string();
    let uuid = emu
        .tokens()
        .into_iter()
        .find(|t| t.token == secret)
        .expect("live")
        .uuid;
    (secret, uuid)
}

async fn failed_signin(emu: &Emulator) {
    let (sid, _, csrf) = session(emu, None).await;
    let body = json!({"username": "admin", "password": "not-the-password"}).to_string();
    let r = exchange(
        &host(emu),
        "POST",
        "/api/v1/signin",
        &json_headers(&sid, &csrf),
        body.as_bytes(),
    )
    .await;
    assert_eq!(r.status, 403, "setup: wrong password");
}

async fn assign(emu: &Emulator) -> String {
    let (sid, _, csrf) = session(emu, Some("admin")).await;
    let target = format!(
        "/oauth/authorize/assignuser?response_type=token&client_id=HPYVPQWFRF0K38SSK5QI&redirect_uri={}&scope=repo%3Aread+user%3Aread&username=dwilde&format=json",
        url::form_urlencoded::byte_serialize(format!("{}/oauth/localapp", emu.url()).as_bytes())
            .collect::<String>()
    );
    let r = exchange(&host(emu), "POST", &target, &json_headers(&sid, &csrf), b"").await;
    assert_eq!(r.status, 200, "setup: assignuser");
    emu.assignments().last().expect("assignment").uuid.clone()
}

/// Runs the setup a spec asks for. Spec words: `actor=<user|anon>`, `bearer=<user>:<scopes>`,
/// `pre=<step>`/`post=<step>` (before/after the actor's session), `csrf=keep|stale`, `uuid=token|assign`, `cfg=<switch>`,
/// `len=<key>` (the body's array `<key>` must be as long as the capture's) and `body=exact` (the
/// body byte for byte, host aside) are checked by the caller.
pub async fn prepare(emu: &Emulator, t: &Transcript, spec: &str) -> Live {
    let mut live = Live::default();
    for cfg in word(spec, "cfg=") {
        match cfg {
            "notokenapi" => emu.set_token_api(false),
            "noassign" => emu.set_assign_oauth_token(false),
            "whitelist" => emu.set_direct_oauth_whitelist(&["HPYVPQWFRF0K38SSK5QI"]),
            other => panic!("unknown cfg {other}"),
        }
    }
    if let Some(b) = word(spec, "bearer=").next() {
        let (user, scopes) = b.split_once(':').expect("user:scopes");
        let (secret, uuid) = if scopes == "expiring" {
            let (sid, _, csrf) = session(emu, Some(user)).await;
            let body =
                json!({"name": "short-lived", "scope": "repo:read org:admin", "expiration": 1})
                    .to_string();
            let path = "/api/v1/organization/production/applications/HPYVPQWFRF0K38SSK5QI/tokens";
            let r = exchange(
                &host(emu),
                "POST",
                path,
                &json_headers(&sid, &csrf),
                body.as_bytes(),
            )
            .await;
            let v: Value = serde_json::from_slice(&r.body).expect("token json");
            (
                v["token"].as_str().expect("token").to_string(),
                v["uuid"].as_str().expect("uuid").to_string(),
            )
        } else {
            mint(emu, user, &scopes.replace(',', " ")).await
        };
        live.bearer = Some(secret);
        live.uuid = Some(uuid);
    }
    for step in word(spec, "pre=") {
        step_run(emu, step, &mut live).await;
    }
    if t.request.header("cookie").is_some() {
        let actor = word(spec, "actor=").next().unwrap_or("admin");
        let user = (actor != "anon").then_some(actor);
        let (sid, pre, now) = session(emu, user).await;
        live.sid = Some(sid);
        live.stale_csrf = pre;
        live.csrf = now;
    } else {
        let (_, _, csrf) = session(emu, None).await;
        live.csrf = csrf;
    }
    for step in word(spec, "post=") {
        step_run(emu, step, &mut live).await;
    }
    live
}

/// The values of the spec words starting with `key`.
pub fn word<'a>(spec: &'a str, key: &'a str) -> impl Iterator<Item = &'a str> + 'a {
    spec.split_whitespace()
        .filter_map(move |w| w.strip_prefix(key))
}

/// One setup step (see [`prepare`]).
async fn step_run(emu: &Emulator, step: &str, live: &mut Live) {
    match step {
        "fail1" => failed_signin(emu).await,
        "fail2" => {
            failed_signin(emu).await;
            // Past the back-off window of one failure (0.5 s).
            emu.advance_clock(Duration::from_millis(600));
            failed_signin(emu).await;
        }
        "signout" => {
            let (sid, _, csrf) = session(emu, Some("admin")).await;
            exchange(
                &host(emu),
                "POST",
                "/api/v1/signout",
                &json_headers(&sid, &csrf),
                b"",
            )
            .await;
        }
        "assign" => {
            let first = assign(emu).await;
            live.uuid.get_or_insert(first);
        }
        "grant" => drop(mint(emu, "admin", "repo:read").await),
        "revoke" => emu.revoke_token(live.uuid.as_deref().expect("a token")),
        // The short-lived token was minted with expiration 1.
        "expire" => emu.advance_clock(Duration::from_millis(1300)),
        "appdel" => assert!(emu.delete_app("W4018R8Z2JXSWEU7Y3WA")),
        "extapp2" => {
            emu.add_app_with_client_id(APPS_ORG, "extapp", Some(""), Some(EXTAPP2));
        }
        "bytoken" => {
            emu.add_app_with_client_id(
                APPS_ORG,
                "byToken",
                Some("http://r.example.com"),
                Some(BYTOKEN),
            );
        }
        "disable" => emu.set_user_enabled("dvictimc6f9f8", false),
        "pwchange" => emu.set_password("downerc6f9f8", "Dr1ft-c6f9f8-new"),
        "rmadmin" => emu.remove_org_admin("dorgc6f9f8", "dmemberc6f9f8"),
        "newuser" => emu.add_user("newuser06afde", "N3wUserPassw0rd"),
        "neworg" => emu.add_org("org06afde", "admin"),
        "nextpage" => live.next_page = Some(first_page_cursor(emu).await),
        other => match other.strip_prefix("tokens:") {
            Some(n) => mint_pg_tokens(emu, n.parse().expect("tokens:<count>")).await,
            None => panic!("unknown pre {other}"),
        },
    }
}

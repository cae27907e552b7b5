//! Replays every captured transcript against a fresh emulator put into the capture's state, and
//! compares status, the headers that matter and the body shape.

#[path = "replay/compare.rs"]
mod compare;
#[path = "replay/parse.rs"]
mod parse;
#[path = "replay/raw.rs"]
mod raw;
#[path = "replay/setup.rs"]
mod setup;

use std::path::PathBuf;

use quay_emulator::{Config, Emulator};

/// The captures: `shared/` beside the checkout (`<checkout>/../shared`, as in CI), else the
/// workstation's `/work/shared`.
fn transcripts_dir() -> PathBuf {
    let beside = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared/quay/transcripts");
    if beside.is_dir() {
        return beside;
    }
    PathBuf::from("/work/shared/quay/transcripts")
}

/// The state each capture assumed (see `setup::prepare`); the default actor is admin.
fn spec(name: &str) -> &'static str {
    let id = name.split('-').next().unwrap_or("");
    match id {
        "01b" | "02" | "03" | "04" | "05" | "05b" | "05d" | "17" | "41f" | "71" => "actor=anon",
        "02b" => "csrf=stale",
        "03b" => "actor=anon pre=fail1",
        "03d" => "actor=anon pre=fail2",
        "12" => "csrf=keep",
        "16" | "19c" | "41e" | "42" | "43c" | "43d" | "44b" | "44b2" | "50e" | "70d" => match id {
            "42" | "43c" => "actor=dwilde pre=assign pre=assign",
            "44b" | "44b2" => "actor=dwilde cfg=noassign",
            _ => "actor=dwilde",
        },
        "43" | "43e" => "actor=dwilde pre=assign uuid=assign",
        "43b" => "bearer=dwilde:repo:read,user:read",
        "19b" => "pre=grant",
        "20" | "21c" | "22f" | "22g" | "23" => "bearer=admin:repo:read,org:admin,user:read",
        "21" | "21b" => "bearer=admin:repo:read",
        "31" | "32" | "32b" => "bearer=admin:repo:read,repo:write uuid=token",
        "31c" | "31d" => "bearer=admin:repo:read,repo:write",
        "32c" | "33c" => "bearer=admin:repo:read,repo:write pre=revoke uuid=token",
        "33" | "33a" | "33b" => "bearer=admin:repo:read,repo:write pre=revoke",
        "44" | "44c" | "44d" => "cfg=noassign",
        "46" | "46b" => "cfg=whitelist",
        "50b" | "50c" | "50c2" => "post=signout",
        "50d" => "bearer=admin:repo:read,org:admin,user:read pre=signout",
        "61" | "63" | "64a" => "bearer=admin:repo:read,org:admin",
        "65" => "bearer=admin:repo:read,org:admin uuid=token",
        "65b" => "bearer=admin:repo:read,org:admin pre=revoke",
        "64" | "64b" | "64c" => "bearer=admin:expiring pre=expire",
        "71b" => "actor=anon pre=newuser",
        "72b" => "pre=neworg",
        "73" => "pre=newuser pre=neworg",
        "80" | "80b" => "cfg=notokenapi",
        "81b" => "bearer=downerc6f9f8:repo:read,user:read pre=appdel",
        "81c" => "pre=appdel",
        "82b" => "bearer=dvictimc6f9f8:repo:read,user:read pre=disable",
        "82c" => "actor=dvictimc6f9f8 post=disable",
        "82d" => "actor=anon pre=disable",
        "83" => "actor=downerc6f9f8",
        "83b" => "actor=downerc6f9f8 post=pwchange",
        "83c" => "bearer=downerc6f9f8:repo:read,user:read pre=pwchange",
        "83d" => "actor=anon pre=pwchange",
        "84" => "actor=downerc6f9f8",
        "84b" => "bearer=dmemberc6f9f8:repo:read,user:read pre=rmadmin",
        "84c" => "actor=dmemberc6f9f8 pre=rmadmin",
        // The token API's scope and input checks, as a non-superuser organization owner.
        // Their error bodies carry no instance data: byte for byte as Quay's.
        "66b" | "66c" | "66e" | "66g" | "66h" | "66k" => "actor=towner630a6b body=exact",
        "66" | "66d" | "66f" | "66i" | "66j" | "66l" => "actor=towner630a6b",
        // 55 live tokens: a first page of 50 with a cursor, then the last page of 5.
        "68" => "actor=pgowner27a451 pre=tokens:55 len=tokens",
        "68b" => "actor=pgowner27a451 pre=tokens:55 pre=nextpage len=tokens",
        // The organization applications API as the non-superuser owner of aorgc9f3c0, whose
        // extapp (every field set) exists; 67b then 67m each added one more application.
        "67" | "67b" | "67c" | "67f" | "67i" | "67j" | "67l" => "actor=aownerc9f3c0",
        "67d" | "67k" | "67r" => "actor=aownerc9f3c0 body=exact",
        "67e" => "actor=aownerc9f3c0 pre=extapp2 len=applications",
        "67g" | "67h" => "actor=aoutsiderc9f3c0 body=exact",
        "67m" => "bearer=aownerc9f3c0:org:admin pre=extapp2",
        "67n" => "bearer=aownerc9f3c0:org:admin pre=extapp2 pre=bytoken len=applications",
        "67o" => "bearer=aownerc9f3c0:repo:read body=exact",
        "67p" => "bearer=aownerc9f3c0:org:admin pre=extapp2 pre=bytoken",
        // The application 67p deleted is gone.
        "67q" => "bearer=aownerc9f3c0:org:admin pre=extapp2 body=exact",
        _ => "",
    }
}

/// Replaces the value after each `key` (up to `&`) when `pred` accepts it.
fn swap_param(text: &str, key: &str, new: &str, pred: impl Fn(&str) -> bool) -> String {
    let mut out = String::new();
    let mut rest = text;
    while let Some(i) = rest.find(key) {
        let start = i + key.len();
        let end = rest[start..]
            .find(['&', ' '])
            .map(|e| start + e)
            .unwrap_or(rest.len());
        out.push_str(&rest[..start]);
        out.push_str(if pred(&rest[start..end]) {
            new
        } else {
            &rest[start..end]
        });
        rest = &rest[end..];
    }
    out.push_str(rest);
    out
}

fn is_uuid(s: &str) -> bool {
    s.len() == 36
        && s.chars().all(|c| c.is_ascii_hexdigit() || c == '-')
        && s != "00000000-0000-0000-0000-000000000000"
}

/// The capture's request with live values.
fn live_request(
    t: &parse::Transcript,
    live: &setup::Live,
    spec: &str,
    base: &str,
) -> (String, String, Vec<(String, String)>, String) {
    let host = base.trim_start_matches("http://");
    let encoded = host.replace(':', "%3A");
    let local = |s: &str| {
        s.replace("localhost:8080", host)
            .replace("localhost:8081", host)
            .replace("localhost%3A8080", &encoded)
            .replace("127.0.0.1:8080", host)
            .replace("127.0.0.1%3A8080", &encoded)
    };
    let (method, mut target) = t.method_target();
    let mut body = local(&t.request.body);
    target = local(&target);
    let csrf = if spec.contains("csrf=stale") {
        live.stale_csrf.as_str()
    } else {
        live.csrf.as_str()
    };
    let swap_csrf = !spec.contains("csrf=keep");
    if swap_csrf {
        let long = |v: &str| v.len() == 64;
        target = swap_param(&target, "_csrf_token=", csrf, long);
        body = swap_param(&body, "_csrf_token=", csrf, long);
    }
    if let Some(cursor) = &live.next_page {
        let encoded: String = url::form_urlencoded::byte_serialize(cursor.as_bytes()).collect();
        target = swap_param(&target, "next_page=", &encoded, |_| true);
    }
    if spec.contains("uuid=")
        && let Some(uuid) = &live.uuid
    {
        body = swap_param(&body, "assignment_uuid=", uuid, is_uuid);
        target = target
            .split('/')
            .map(|seg| if is_uuid(seg) { uuid.as_str() } else { seg })
            .collect::<Vec<_>>()
            .join("/");
    }
    let mut headers = Vec::new();
    for (n, v) in &t.request.headers {
        let value = match n.to_ascii_lowercase().as_str() {
            "host" | "content-length" | "connection" | "accept-encoding" => continue,
            "cookie" => match &live.sid {
                Some(sid) => format!("_csrf_token={sid}"),
                None => continue,
            },
            "x-csrf-token" if swap_csrf && v.len() == 64 => csrf.to_string(),
            "authorization" if v.starts_with("Bearer ") && spec.contains("bearer=") => {
                format!("Bearer {}", live.bearer.as_deref().unwrap_or(""))
            }
            _ => local(v),
        };
        headers.push((n.clone(), value));
    }
    (method, target, headers, body)
}

/// Every transcript, replayed: the emulator must answer as Quay did.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_transcript_replays_like_quay() {
    let dir = transcripts_dir();
    let mut names: Vec<String> = std::fs::read_dir(&dir)
        .expect("transcripts directory")
        .filter_map(|e| e.ok().map(|e| e.file_name().to_string_lossy().to_string()))
        .filter(|n| n.ends_with(".txt") && n.as_bytes()[0].is_ascii_digit())
        // 80c has no request line (its body is reduced); tested directly in discovery_follows_the_token_api_switch.
        .filter(|n| !n.starts_with("80c-"))
        .collect();
    names.sort();
    let mut failures = Vec::new();
    for name in &names {
        let text = std::fs::read_to_string(dir.join(name)).expect("readable transcript");
        let t = parse::parse(name, &text);
        let emu = Emulator::start(([127, 0, 0, 1], 0).into(), Config::default())
            .await
            .expect("starts");
        setup::base(&emu);
        let spec = spec(name);
        let live = setup::prepare(&emu, &t, spec).await;
        let base = emu.url();
        let (method, target, headers, body) = live_request(&t, &live, spec, &base);
        let resp = raw::exchange(
            base.trim_start_matches("http://"),
            &method,
            &target,
            &headers,
            body.as_bytes(),
        )
        .await;
        let mut diffs = compare::differences(&t, &resp, &base);
        for key in setup::word(spec, "len=") {
            diffs.extend(compare::array_len(&t, &resp, key));
        }
        if spec.contains("body=exact") {
            diffs.extend(compare::exact_body(&t, &resp, &base));
        }
        if !diffs.is_empty() {
            let summary = diffs.join("\n  ");
            failures.push(format!("{}:\n  {summary}", t.name));
        }
    }
    assert!(names.len() > 100, "only {} transcripts found", names.len());
    assert!(
        failures.is_empty(),
        "{} of {} transcripts differ:\n{}",
        failures.len(),
        names.len(),
        failures.join("\n")
    );
}

/// 80c: Quay 3.17's discovery document lists no token API; 3.18's does.
#[tokio::test]
async fn discovery_follows_the_token_api_switch() {
    let emu = Emulator::start(([127, 0, 0, 1], 0).into(), Config::default())
        .await
        .expect("starts");
    let host = emu.url().trim_start_matches("http://").to_string();
    let tokens_path = "/api/v1/organization/{orgname}/applications/{client_id}/tokens";
    let paths = |r: raw::Resp| -> serde_json::Value {
        serde_json::from_slice::<serde_json::Value>(&r.body).expect("json")["paths"].clone()
    };
    let on = paths(raw::exchange(&host, "GET", "/api/v1/discovery", &[], b"").await);
    assert!(on.get(tokens_path).is_some());
    assert!(
        on.get("/api/v1/signin").is_none(),
        "internal paths only with internal=true"
    );
    emu.set_token_api(false);
    let off = paths(raw::exchange(&host, "GET", "/api/v1/discovery?internal=true", &[], b"").await);
    assert!(off.get(tokens_path).is_none());
    assert!(
        off.get("/api/v1/organization/{orgname}/applications/{client_id}")
            .is_some()
    );
    assert!(off.get("/api/v1/signin").is_some());
}

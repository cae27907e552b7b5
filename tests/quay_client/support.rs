//! Shared fixture: an emulator seeded with an admin, a non-admin, an org and an app.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use quay_apitoken_operator::quay::{
    ConnectionSettings, MintRequest, QuayClient, QuayError, RequestObserver,
};
use quay_emulator::{AppInfo, Config, Emulator};

pub const ADMIN: &str = "admin";
/// Distinctive so that a leak anywhere in an error or Debug output is easy to spot.
pub const ADMIN_PASSWORD: &str = "Adm1n-Known-Passw0rd-7781";
pub const WRONG_PASSWORD: &str = "Wr0ng-Known-Passw0rd-9925";
pub const OTHER: &str = "dwilde";
pub const OTHER_PASSWORD: &str = "Dw1ld3-Known-Passw0rd-4410";
pub const ORG: &str = "production";

/// Counts requests per endpoint as the client reports them.
#[derive(Default)]
pub struct Recorder {
    pub seen: Mutex<HashMap<&'static str, Vec<Option<u16>>>>,
}

impl RequestObserver for Recorder {
    fn observe(&self, endpoint: &'static str, status: Option<u16>, _elapsed: Duration) {
        if let Ok(mut seen) = self.seen.lock() {
            seen.entry(endpoint).or_default().push(status);
        }
    }
}

impl Recorder {
    pub fn statuses(&self, endpoint: &str) -> Vec<Option<u16>> {
        self.seen
            .lock()
            .map(|seen| seen.get(endpoint).cloned().unwrap_or_default())
            .unwrap_or_default()
    }
}

pub struct Fixture {
    pub emu: Emulator,
    pub app: AppInfo,
    pub client: QuayClient,
    pub recorder: Arc<Recorder>,
}

impl Fixture {
    /// Starts an emulator with `config` and seeds it.
    pub async fn start(config: Config) -> Fixture {
        let emu = Emulator::start("127.0.0.1:0".parse().expect("addr"), config)
            .await
            .expect("emulator starts");
        emu.add_user(ADMIN, ADMIN_PASSWORD);
        emu.add_user(OTHER, OTHER_PASSWORD);
        emu.add_org(ORG, ADMIN);
        let app = emu.add_app(ORG, "quay-operator", None);
        let recorder = Arc::new(Recorder::default());
        let client = QuayClient::new(Some(recorder.clone() as Arc<dyn RequestObserver>));
        Fixture {
            emu,
            app,
            client,
            recorder,
        }
    }

    /// Plain HTTP, token API on, assignment on.
    pub async fn http() -> Fixture {
        Fixture::start(Config::default()).await
    }

    /// Plain HTTP playing Quay 3.17 (no token API).
    pub async fn web_flow() -> Fixture {
        Fixture::start(Config {
            token_api: false,
            ..Config::default()
        })
        .await
    }

    /// Settings for the admin account with extra keys.
    pub fn admin(&self, extra: &[(&str, &str)]) -> ConnectionSettings {
        settings(&self.emu.url(), ADMIN, ADMIN_PASSWORD, extra)
    }

    /// A mint request for the fixture's app.
    pub fn request(&self, scopes: &[&str]) -> MintRequest {
        MintRequest {
            client_id: self.app.client_id.clone(),
            scopes: scopes.iter().map(|s| (*s).to_owned()).collect(),
            name: "apitoken-test".to_owned(),
            expiration: None,
        }
    }

    pub fn count(&self, key: &str) -> u64 {
        self.emu.request_count(key)
    }

    /// Every secret the test knows: passwords and the value of every token in Quay.
    pub fn secrets(&self) -> Vec<String> {
        let mut secrets: Vec<String> = [ADMIN_PASSWORD, WRONG_PASSWORD, OTHER_PASSWORD]
            .iter()
            .map(|s| (*s).to_owned())
            .collect();
        secrets.extend(self.emu.tokens().into_iter().map(|t| t.token));
        secrets
    }
}

/// Connection settings as the operator would read them from a Secret.
pub fn settings(
    host: &str,
    user: &str,
    password: &str,
    extra: &[(&str, &str)],
) -> ConnectionSettings {
    let mut data: BTreeMap<String, Vec<u8>> = BTreeMap::new();
    data.insert("host".into(), host.as_bytes().to_vec());
    data.insert("username".into(), user.as_bytes().to_vec());
    data.insert("password".into(), password.as_bytes().to_vec());
    for (key, value) in extra {
        data.insert((*key).to_owned(), value.as_bytes().to_vec());
    }
    ConnectionSettings::from_secret_data(&data).expect("valid settings")
}

/// Asserts that an error says nothing secret, in Display or Debug, and returns its text.
pub fn assert_clean(err: &QuayError, secrets: &[String]) -> String {
    let display = err.to_string();
    let debug = format!("{err:?}");
    for secret in secrets {
        assert!(
            !display.contains(secret.as_str()),
            "secret in Display: {display}"
        );
        assert!(!debug.contains(secret.as_str()), "secret in Debug: {debug}");
    }
    display
}

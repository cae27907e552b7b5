//! The emulated Quay's data: users, organizations, OAuth applications, tokens, assignments, sessions.

use std::collections::BTreeMap;
use std::collections::btree_map::Entry;

use rand::Rng;
use rand::distr::Alphanumeric;

use crate::scopes;
use crate::time::Clock;

/// Ten years, the lifetime Quay gives every token minted through the web flow, and the
/// default and maximum `expiration` of the token API.
pub const TEN_YEARS_S: u64 = 315_576_000;

/// Tokens per page of the token API's list (Quay's `list_application_tokens` limit).
pub const TOKEN_PAGE_SIZE: usize = 50;

/// A Quay user account.
pub struct User {
    pub password: String,
    pub email: String,
    pub enabled: bool,
    pub superuser: bool,
    /// Bumped to invalidate every session of the user (Quay rotates the user's uuid).
    pub generation: u64,
    pub failed_logins: u32,
    pub last_invalid_login: f64,
}

/// An organization; its admins are the members of its `owners` team.
pub struct Org {
    pub email: String,
    pub admins: Vec<String>,
}

/// An OAuth application registered in an organization.
pub struct App {
    /// Creation order, Quay's row id: organizations list their applications by it.
    pub seq: u64,
    pub client_id: String,
    pub client_secret: String,
    pub org: String,
    pub name: String,
    pub description: String,
    pub application_uri: String,
    pub redirect_uri: String,
    pub avatar_email: Option<String>,
}

/// What an application is created with (Quay's `create_application` arguments).
#[derive(Default)]
pub struct AppFields {
    pub name: String,
    pub description: String,
    pub application_uri: String,
    pub redirect_uri: String,
    pub avatar_email: Option<String>,
}

/// An OAuth access token.
pub struct Token {
    /// Creation order, Quay's row id: the token API lists and pages by it.
    pub seq: u64,
    pub uuid: String,
    pub secret: String,
    pub scopes: Vec<String>,
    /// The scope string as Quay stores it (as posted for the web flow, normalised by the token API).
    pub scope_raw: String,
    pub user: String,
    pub client_id: String,
    pub name: Option<String>,
    pub created: f64,
    pub expires_at: f64,
    pub last_accessed: Option<f64>,
}

impl Token {
    /// Whether the token is still usable at `now`.
    pub fn live(&self, now: f64) -> bool {
        self.expires_at > now
    }
}

/// A token assignment waiting for its user to redeem it.
pub struct Assignment {
    pub uuid: String,
    pub user: String,
    pub client_id: String,
    pub redirect_uri: String,
    pub scope: String,
    pub response_type: String,
}

/// What a session cookie refers to.
pub struct Session {
    pub csrf: String,
    /// The signed-in user and the user generation at sign-in.
    pub user: Option<(String, u64)>,
    pub permanent: bool,
    /// Whether Flask-Login has marked the anonymous session (`_fresh: false`) yet.
    pub login_marked: bool,
    /// When a cookie naming the session was last sent: Flask's signature timestamp, from which
    /// the session's lifetime runs.
    pub signed_at: f64,
}

/// Server switches that real Quay sets in its config.
pub struct Switches {
    pub token_api: bool,
    pub assign_oauth_token: bool,
    pub user_initialize: bool,
    pub max_tokens_per_app: Option<usize>,
    pub direct_oauth_whitelist: Vec<String>,
}

/// The whole emulated instance, kept behind one mutex.
pub struct State {
    /// `http(s)://127.0.0.1:PORT`, Quay's PREFERRED_URL_SCHEME + SERVER_HOSTNAME.
    pub base: String,
    pub switches: Switches,
    pub users: BTreeMap<String, User>,
    pub orgs: BTreeMap<String, Org>,
    /// Keyed by client ID.
    pub apps: BTreeMap<String, App>,
    /// Keyed by uuid; revoked tokens are removed.
    pub tokens: BTreeMap<String, Token>,
    pub assignments: BTreeMap<String, Assignment>,
    /// Keyed by the opaque session id carried in the `_csrf_token` cookie.
    pub sessions: BTreeMap<String, Session>,
    /// The id of the next token.
    pub next_seq: u64,
    /// The id of the next application.
    pub next_app_seq: u64,
    /// This instance's notion of now.
    pub clock: Clock,
    /// Quay's PAGE_TOKEN_KEY: seals `next_page` tokens.
    pub page_key: [u8; 32],
}

/// A random string of `len` characters from `[A-Za-z0-9]`.
pub fn random_alnum(len: usize) -> String {
    rand::rng()
        .sample_iter(&Alphanumeric)
        .take(len)
        .map(char::from)
        .collect()
}

/// A random string of `len` characters from `[A-Z0-9]`, the alphabet of client IDs.
pub fn random_upper(len: usize) -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
    let mut rng = rand::rng();
    (0..len)
        .map(|_| char::from(ALPHABET[rng.random_range(0..ALPHABET.len())]))
        .collect()
}

/// A random URL-safe base64 string of 64 characters, the shape of Quay's CSRF tokens.
pub fn random_csrf() -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let mut rng = rand::rng();
    (0..64)
        .map(|_| char::from(ALPHABET[rng.random_range(0..ALPHABET.len())]))
        .collect()
}

/// A fresh v4 uuid as text.
pub fn new_uuid() -> String {
    uuid::Uuid::new_v4().to_string()
}

impl State {
    /// An empty instance served at `base`.
    pub fn new(base: String, switches: Switches) -> State {
        State {
            base,
            switches,
            users: BTreeMap::new(),
            orgs: BTreeMap::new(),
            apps: BTreeMap::new(),
            tokens: BTreeMap::new(),
            assignments: BTreeMap::new(),
            sessions: BTreeMap::new(),
            next_seq: 1,
            next_app_seq: 1,
            clock: Clock::default(),
            page_key: crate::pagetoken::new_key(),
        }
    }

    /// Unix seconds by this instance's clock.
    pub fn now(&self) -> f64 {
        self.clock.now()
    }

    /// Whether a user or an organization already uses `name` (they share one namespace).
    pub fn name_taken(&self, name: &str) -> bool {
        self.users.contains_key(name) || self.orgs.contains_key(name)
    }

    /// Creates an enabled, non-superuser account.
    pub fn create_user(&mut self, name: &str, password: &str, email: &str) {
        self.users.insert(
            name.to_string(),
            User {
                password: password.to_string(),
                email: email.to_string(),
                enabled: true,
                superuser: false,
                generation: 0,
                failed_logins: 0,
                last_invalid_login: 0.0,
            },
        );
    }

    /// Creates an organization whose owners team holds `admin`.
    pub fn create_org(&mut self, name: &str, email: &str, admin: &str) {
        self.orgs.insert(
            name.to_string(),
            Org {
                email: email.to_string(),
                admins: vec![admin.to_string()],
            },
        );
    }

    /// Whether `user` is a Quay superuser (SUPER_USERS).
    pub fn is_superuser(&self, user: &str) -> bool {
        self.users.get(user).is_some_and(|u| u.superuser)
    }

    /// Whether `user` is an admin of `org` (superuser status alone does not count).
    pub fn is_org_admin(&self, org: &str, user: &str) -> bool {
        self.orgs
            .get(org)
            .is_some_and(|o| o.admins.iter().any(|a| a == user))
    }

    /// Registers an OAuth application; a chosen client ID replaces the application that had it.
    pub fn create_app(&mut self, org: &str, fields: AppFields, client_id: Option<&str>) -> &App {
        let client_id = client_id
            .map(str::to_string)
            .unwrap_or_else(|| random_upper(20));
        let seq = self.next_app_seq;
        self.next_app_seq += 1;
        let app = App {
            seq,
            client_id: client_id.clone(),
            client_secret: random_upper(40),
            org: org.to_string(),
            name: fields.name,
            description: fields.description,
            application_uri: fields.application_uri,
            redirect_uri: fields.redirect_uri,
            avatar_email: fields.avatar_email,
        };
        match self.apps.entry(client_id) {
            Entry::Vacant(slot) => slot.insert(app),
            Entry::Occupied(mut slot) => {
                slot.insert(app);
                slot.into_mut()
            }
        }
    }

    /// The applications of `org`, oldest first.
    pub fn apps_of(&self, org: &str) -> Vec<&App> {
        let mut v: Vec<&App> = self.apps.values().filter(|a| a.org == org).collect();
        v.sort_by_key(|a| a.seq);
        v
    }

    /// The application `client_id` if it belongs to `org` (Quay's `lookup_application`).
    pub fn app_in(&self, org: &str, client_id: &str) -> Option<&App> {
        self.apps.get(client_id).filter(|a| a.org == org)
    }

    /// Deletes an application together with its tokens and assignments, as Quay does.
    pub fn delete_app(&mut self, client_id: &str) -> bool {
        let existed = self.apps.remove(client_id).is_some();
        self.tokens.retain(|_, t| t.client_id != client_id);
        self.assignments.retain(|_, a| a.client_id != client_id);
        existed
    }

    /// Mints a token and returns its uuid.
    pub fn mint(
        &mut self,
        user: &str,
        client_id: &str,
        scopes: Vec<String>,
        scope_raw: &str,
        name: Option<String>,
        lifetime_s: u64,
    ) -> String {
        let uuid = new_uuid();
        let created = self.now();
        let seq = self.next_seq;
        self.next_seq += 1;
        self.tokens.insert(
            uuid.clone(),
            Token {
                seq,
                uuid: uuid.clone(),
                secret: random_alnum(40),
                scopes,
                scope_raw: scope_raw.to_string(),
                user: user.to_string(),
                client_id: client_id.to_string(),
                name,
                created,
                expires_at: created + lifetime_s as f64,
                last_accessed: None,
            },
        );
        uuid
    }

    /// Finds the live token whose secret is `bearer`, provided its user is enabled, and marks it used.
    pub fn token_by_secret(&mut self, bearer: &str) -> Option<&Token> {
        let now = self.now();
        let users = &self.users;
        let token = self.tokens.values_mut().find(|t| {
            t.secret == bearer && t.live(now) && users.get(&t.user).is_some_and(|u| u.enabled)
        })?;
        token.last_accessed = Some(now);
        Some(token)
    }

    /// Live tokens, in creation order.
    pub fn live_tokens(&self) -> Vec<&Token> {
        let now = self.now();
        let mut v: Vec<&Token> = self.tokens.values().filter(|t| t.live(now)).collect();
        v.sort_by_key(|t| t.seq);
        v
    }

    /// Every unrevoked token of `user`, expired ones included (Quay deletes no expired token:
    /// `list_access_tokens_for_user` has no expiry filter), in creation order.
    pub fn tokens_of(&self, user: &str) -> Vec<&Token> {
        let mut v: Vec<&Token> = self.tokens.values().filter(|t| t.user == user).collect();
        v.sort_by_key(|t| t.seq);
        v
    }

    /// Invalidates every session of `user`.
    pub fn invalidate_sessions(&mut self, user: &str) {
        if let Some(u) = self.users.get_mut(user) {
            u.generation += 1;
        }
    }

    /// The user a session is signed in as, if the session is still valid.
    pub fn session_user(&self, sid: Option<&str>) -> Option<String> {
        let session = self.sessions.get(sid?)?;
        let (name, generation) = session.user.as_ref()?;
        let user = self.users.get(name)?;
        (user.enabled && user.generation == *generation).then(|| name.clone())
    }

    /// All scopes, for `POST /api/v1/user/initialize`.
    pub fn all_scopes() -> Vec<String> {
        scopes::all()
    }
}

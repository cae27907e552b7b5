//! Quay's OAuth scopes: the valid names, their descriptions, and parsing of scope strings.

use serde_json::{Value, json};

/// One scope as Quay describes it to users.
struct ScopeDef {
    scope: &'static str,
    title: &'static str,
    icon: &'static str,
    dangerous: bool,
    description: &'static str,
}

const SCOPES: [ScopeDef; 8] = [
    ScopeDef {
        scope: "repo:read",
        title: "View all visible repositories",
        icon: "fa-hdd-o",
        dangerous: false,
        description: "This application will be able to view and pull all repositories visible to the granting user",
    },
    ScopeDef {
        scope: "repo:write",
        title: "Read/Write to any accessible repositories",
        icon: "fa-hdd-o",
        dangerous: false,
        description: "This application will be able to view, push and pull to all repositories to which the granting user has write access",
    },
    ScopeDef {
        scope: "repo:admin",
        title: "Administer Repositories",
        icon: "fa-hdd-o",
        dangerous: false,
        description: "This application will have administrator access to all repositories to which the granting user has access",
    },
    ScopeDef {
        scope: "repo:create",
        title: "Create Repositories",
        icon: "fa-plus",
        dangerous: false,
        description: "This application will be able to create repositories in all namespaces that the granting user is allowed to create repositories",
    },
    ScopeDef {
        scope: "user:read",
        title: "Read User Information",
        icon: "fa-user",
        dangerous: false,
        description: "This application will be able to read user information such as username and email address.",
    },
    ScopeDef {
        scope: "user:admin",
        title: "Administer User",
        icon: "fa-gear",
        dangerous: true,
        description: "This application will be able to administer your account including creating robots and granting them permissions to your repositories. You should have absolute trust in the requesting application before granting this permission.",
    },
    ScopeDef {
        scope: "org:admin",
        title: "Administer Organization",
        icon: "fa-gear",
        dangerous: true,
        description: "This application will be able to administer your organizations including creating robots, creating teams, adjusting team membership, and changing billing settings. You should have absolute trust in the requesting application before granting this permission.",
    },
    ScopeDef {
        scope: "super:user",
        title: "Super User Access",
        icon: "fa-street-view",
        dangerous: true,
        description: "This application will be able to administer your installation including managing users, managing organizations and other features found in the superuser panel. You should have absolute trust in the requesting application before granting this permission.",
    },
];

/// Every valid scope name, in Quay's order.
pub fn all() -> Vec<String> {
    SCOPES.iter().map(|s| s.scope.to_string()).collect()
}

/// Splits a scope string on spaces and commas; `None` when it is empty or names an unknown scope.
pub fn parse(raw: &str) -> Option<Vec<String>> {
    let mut out: Vec<String> = Vec::new();
    for item in raw.split([' ', ',']).filter(|s| !s.is_empty()) {
        if !SCOPES.iter().any(|s| s.scope == item) {
            return None;
        }
        if !out.iter().any(|s| s == item) {
            out.push(item.to_string());
        }
    }
    if out.is_empty() { None } else { Some(out) }
}

/// Quay's `normalize_scope`: commas become spaces, whitespace runs collapse, duplicates go.
pub fn normalize(raw: &str) -> String {
    let mut out: Vec<&str> = Vec::new();
    for item in raw.split(|c: char| c == ',' || c.is_whitespace()) {
        if !item.is_empty() && !out.contains(&item) {
            out.push(item);
        }
    }
    out.join(" ")
}

/// The scopes a scope grants too (Quay's IMPLIED_SCOPES): repo:admin ⊃ repo:write ⊃ repo:read.
fn implied(scope: &str) -> &'static [&'static str] {
    match scope {
        "repo:admin" => &["repo:admin", "repo:write", "repo:read"],
        "repo:write" => &["repo:write", "repo:read"],
        "repo:read" => &["repo:read"],
        "repo:create" => &["repo:create"],
        "user:read" => &["user:read"],
        "user:admin" => &["user:admin"],
        "org:admin" => &["org:admin"],
        "super:user" => &["super:user"],
        _ => &[],
    }
}

/// Quay's `is_subset_string`: whether every wanted scope is held or implied by a held one.
pub fn is_subset(held: &[String], wanted: &[String]) -> bool {
    wanted
        .iter()
        .all(|w| held.iter().any(|h| implied(h).contains(&w.as_str())))
}

/// The scope-info objects Quay lists in authorizations: title, scope, description, icon, dangerous.
pub fn describe(scopes: &[String]) -> Value {
    let items: Vec<Value> = scopes
        .iter()
        .filter_map(|name| SCOPES.iter().find(|s| s.scope == name))
        .map(|s| {
            json!({"title": s.title, "scope": s.scope, "description": s.description,
                   "icon": s.icon, "dangerous": s.dangerous})
        })
        .collect();
    Value::Array(items)
}

/// Whether any of the scopes is one Quay flags as dangerous.
pub fn any_dangerous(scopes: &[String]) -> bool {
    SCOPES
        .iter()
        .any(|s| s.dangerous && scopes.iter().any(|n| n == s.scope))
}

/// The scope-name → description map of the discovery document's security definition.
pub fn descriptions() -> Value {
    let map: serde_json::Map<String, Value> = SCOPES
        .iter()
        .map(|s| (s.scope.to_string(), Value::from(s.description)))
        .collect();
    Value::Object(map)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_space_and_comma_separated_scopes() {
        assert_eq!(
            parse("repo:read,org:admin user:read"),
            Some(vec![
                "repo:read".into(),
                "org:admin".into(),
                "user:read".into()
            ])
        );
        assert_eq!(parse("repo:read bogus:scope"), None);
        assert_eq!(parse(""), None);
        assert_eq!(parse(" , "), None);
    }

    #[test]
    fn normalizes_and_implies_like_quay() {
        assert_eq!(
            normalize(" repo:read,,org:admin\trepo:read "),
            "repo:read org:admin"
        );
        let held = vec!["repo:admin".to_string(), "org:admin".to_string()];
        assert!(is_subset(&held, &["repo:read".into(), "repo:write".into()]));
        assert!(!is_subset(&held, &["user:read".into()]));
        assert!(!is_subset(&[], &["repo:read".into()]));
    }
}

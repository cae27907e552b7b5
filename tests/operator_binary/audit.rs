//! The API server's audit log against the rules a chart grants: which requests a ServiceAccount
//! made, which were refused, which no rule covers, and which granted rights no request used.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use serde_json::Value;

/// One request of the audit log (its last stage), on a resource.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Request {
    /// get, list, watch, create, update, patch, delete…
    pub verb: String,
    /// The API group, empty for the core group.
    pub group: String,
    /// `resource` or `resource/subresource`.
    pub resource: String,
    /// Empty for a cluster-wide request.
    pub namespace: String,
    /// Empty when the request names no object.
    pub name: String,
    /// The response's status code.
    pub code: u16,
}

/// Every resource request `username` made, in the order the log has them.
pub fn requests_of(log: &Path, username: &str) -> Vec<Request> {
    let text = std::fs::read_to_string(log)
        .unwrap_or_else(|e| panic!("cannot read the audit log {}: {e}", log.display()));
    // A watch has a line when its response starts and another when it ends: keep the last.
    let mut by_id: BTreeMap<String, (usize, Request)> = BTreeMap::new();
    for (n, line) in text.lines().enumerate() {
        let Ok(event) = serde_json::from_str::<Value>(line) else {
            continue;
        };
        if event["user"]["username"] != username {
            continue;
        }
        let object = &event["objectRef"];
        let Some(resource) = object["resource"].as_str() else {
            continue; // a non-resource URL (discovery), granted to every user
        };
        let field = |v: &Value| v.as_str().unwrap_or_default().to_owned();
        let resource = match object["subresource"].as_str() {
            Some(sub) => format!("{resource}/{sub}"),
            None => resource.to_owned(),
        };
        let request = Request {
            verb: field(&event["verb"]),
            group: field(&object["apiGroup"]),
            resource,
            namespace: field(&object["namespace"]),
            name: field(&object["name"]),
            code: event["responseStatus"]["code"]
                .as_u64()
                .and_then(|c| u16::try_from(c).ok())
                .unwrap_or_default(),
        };
        let id = field(&event["auditID"]);
        let first = by_id.get(&id).map_or(n, |(first, _)| *first);
        by_id.insert(id, (first, request));
    }
    let mut requests: Vec<(usize, Request)> = by_id.into_values().collect();
    requests.sort_by_key(|(n, _)| *n);
    requests.into_iter().map(|(_, r)| r).collect()
}

/// One verb on one resource, as a Role or ClusterRole bound to the ServiceAccount grants it.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Grant {
    /// The namespace of a Role; `None` for a ClusterRole bound cluster-wide.
    pub scope: Option<String>,
    /// The API group.
    pub group: String,
    /// `resource` or `resource/subresource`.
    pub resource: String,
    /// One verb.
    pub verb: String,
    /// resourceNames, empty for any.
    pub names: Vec<String>,
}

impl Grant {
    /// Whether this grant allows `request`.
    pub fn covers(&self, request: &Request) -> bool {
        self.group == request.group
            && self.resource == request.resource
            && self.verb == request.verb
            && (self.names.is_empty() || self.names.contains(&request.name))
            && self
                .scope
                .as_ref()
                .is_none_or(|ns| *ns == request.namespace)
    }

    /// The right without where it applies: one rule of identical Roles in several namespaces
    /// is one right.
    pub fn right(&self) -> (String, String, String, Vec<String>) {
        (
            self.group.clone(),
            self.resource.clone(),
            self.verb.clone(),
            self.names.clone(),
        )
    }
}

/// Every verb the rendered objects `docs` grant to the ServiceAccount `namespace/name`.
pub fn grants_to(docs: &[Value], namespace: &str, name: &str) -> Vec<Grant> {
    let strings = |v: &Value| -> Vec<String> {
        v.as_array()
            .map(|a| {
                a.iter()
                    .filter_map(|s| s.as_str().map(str::to_owned))
                    .collect()
            })
            .unwrap_or_default()
    };
    let mut grants = BTreeSet::new();
    for binding in docs {
        let kind = binding["kind"].as_str().unwrap_or_default();
        if kind != "RoleBinding" && kind != "ClusterRoleBinding" {
            continue;
        }
        let bound = binding["subjects"]
            .as_array()
            .into_iter()
            .flatten()
            .any(|s| {
                s["kind"] == "ServiceAccount" && s["name"] == name && s["namespace"] == namespace
            });
        if !bound {
            continue;
        }
        let binding_ns = binding["metadata"]["namespace"].as_str().map(str::to_owned);
        let role_kind = binding["roleRef"]["kind"].as_str().unwrap_or_default();
        let role = docs
            .iter()
            .find(|d| {
                d["kind"] == role_kind
                    && d["metadata"]["name"] == binding["roleRef"]["name"]
                    && (role_kind == "ClusterRole"
                        || d["metadata"]["namespace"].as_str() == binding_ns.as_deref())
            })
            .unwrap_or_else(|| panic!("{kind} names a role the chart does not render: {binding}"));
        for rule in role["rules"].as_array().into_iter().flatten() {
            for group in strings(&rule["apiGroups"]) {
                for resource in strings(&rule["resources"]) {
                    for verb in strings(&rule["verbs"]) {
                        grants.insert(Grant {
                            scope: binding_ns.clone(),
                            group: group.clone(),
                            resource: resource.clone(),
                            verb,
                            names: strings(&rule["resourceNames"]),
                        });
                    }
                }
            }
        }
    }
    grants.into_iter().collect()
}

/// What the run says about the rules.
#[derive(Debug, Default)]
pub struct Verdict {
    /// Requests the API server refused (403).
    pub refused: Vec<Request>,
    /// Requests no grant of the chart covers (allowed by something else).
    pub uncovered: Vec<Request>,
    /// Rights granted that no request used.
    pub unused: Vec<(String, String, String, Vec<String>)>,
}

/// Compares the requests with the grants.
pub fn verdict(requests: &[Request], grants: &[Grant]) -> Verdict {
    let refused = requests.iter().filter(|r| r.code == 403).cloned().collect();
    let uncovered = requests
        .iter()
        .filter(|r| r.code != 403 && !grants.iter().any(|g| g.covers(r)))
        .cloned()
        .collect();
    let mut unused: Vec<_> = grants
        .iter()
        .map(Grant::right)
        .collect::<BTreeSet<_>>()
        .into_iter()
        .filter(|right| {
            !grants
                .iter()
                .filter(|g| g.right() == *right)
                .any(|g| requests.iter().any(|r| r.code != 403 && g.covers(r)))
        })
        .collect();
    unused.sort();
    Verdict {
        refused,
        uncovered,
        unused,
    }
}

#[test]
fn a_grant_covers_its_verb_in_its_scope_and_names_only() {
    let grant = Grant {
        scope: Some("ops".into()),
        group: "coordination.k8s.io".into(),
        resource: "leases".into(),
        verb: "update".into(),
        names: vec!["mine".into()],
    };
    let request = |ns: &str, name: &str, verb: &str| Request {
        verb: verb.into(),
        group: "coordination.k8s.io".into(),
        resource: "leases".into(),
        namespace: ns.into(),
        name: name.into(),
        code: 200,
    };
    assert!(grant.covers(&request("ops", "mine", "update")));
    assert!(!grant.covers(&request("ops", "other", "update")));
    assert!(!grant.covers(&request("team", "mine", "update")));
    assert!(!grant.covers(&request("ops", "mine", "delete")));
    let found = verdict(
        &[request("ops", "mine", "update"), {
            let mut r = request("ops", "x", "get");
            r.code = 403;
            r
        }],
        &[
            grant.clone(),
            Grant {
                verb: "get".into(),
                ..grant
            },
        ],
    );
    assert_eq!(found.refused.len(), 1);
    assert!(found.uncovered.is_empty());
    assert_eq!(
        found.unused,
        vec![(
            "coordination.k8s.io".to_owned(),
            "leases".to_owned(),
            "get".to_owned(),
            vec!["mine".to_owned()]
        )]
    );
}

//! The decisions: which Quay application is this resource's, and what to send it. Pure: the
//! applications Quay listed and the other resources' claims come in as plain values.

use super::crd::{Application, PendingCreate};
use super::error::ApplicationError;
use crate::quay::{AppFields, AppView};
use std::collections::HashMap;

/// What the spec asks of the application; `None` fields are left as Quay has them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Desired<'a> {
    /// The name it should have (newName, else name).
    pub name: &'a str,
    /// The names it may be found by when nothing is recorded (name, and newName).
    pub known_as: Vec<&'a str>,
    pub description: Option<&'a str>,
    pub application_uri: Option<&'a str>,
    pub redirect_uri: Option<&'a str>,
    pub avatar_email: Option<&'a str>,
}

impl<'a> Desired<'a> {
    /// What `app`'s spec asks for.
    pub fn of(app: &'a Application) -> Self {
        let mut known_as = vec![app.spec.name.as_str()];
        known_as.extend(app.spec.new_name.as_deref());
        known_as.dedup();
        Desired {
            name: app.desired_name(),
            known_as,
            description: app.spec.description.as_deref(),
            application_uri: app.spec.application_uri.as_deref(),
            redirect_uri: app.spec.redirect_uri.as_deref(),
            avatar_email: app.spec.avatar_email.as_deref(),
        }
    }
}

/// Quay shows no avatar e-mail as null and may keep an empty one as either: they are the same.
fn avatar(email: Option<&str>) -> Option<String> {
    email.filter(|e| !e.is_empty()).map(str::to_owned)
}

/// The fields of a new application: unset ones empty, as Quay itself makes them.
pub fn create_fields(d: &Desired) -> AppFields {
    AppFields {
        name: d.name.to_owned(),
        description: d.description.unwrap_or_default().to_owned(),
        application_uri: d.application_uri.unwrap_or_default().to_owned(),
        redirect_uri: d.redirect_uri.unwrap_or_default().to_owned(),
        avatar_email: avatar(d.avatar_email),
    }
}

/// The fields `current` has, as a replacing `PUT` would send them unchanged.
fn fields_of(current: &AppView) -> AppFields {
    AppFields {
        name: current.name.clone(),
        description: current.description.clone(),
        application_uri: current.application_uri.clone(),
        redirect_uri: current.redirect_uri.clone(),
        avatar_email: avatar(current.avatar_email.as_deref()),
    }
}

/// The body of the replacing `PUT` when `current` differs from what the spec asks, else
/// `None`. A `PUT` replaces every field, so those the spec leaves out carry Quay's values.
pub fn changes(current: &AppView, d: &Desired) -> Option<AppFields> {
    let now = fields_of(current);
    let keep =
        |wanted: Option<&str>, have: &String| wanted.map_or_else(|| have.clone(), str::to_owned);
    let want = AppFields {
        name: d.name.to_owned(),
        description: keep(d.description, &now.description),
        application_uri: keep(d.application_uri, &now.application_uri),
        redirect_uri: keep(d.redirect_uri, &now.redirect_uri),
        avatar_email: match d.avatar_email {
            Some(email) => avatar(Some(email)),
            None => now.avatar_email.clone(),
        },
    };
    (want != now).then_some(want)
}

/// The spec's names of the fields a `PUT` of `put` changes on `current`, for events.
pub fn changed_fields(current: &AppView, put: &AppFields) -> Vec<&'static str> {
    let now = fields_of(current);
    [
        ("name", now.name != put.name),
        ("description", now.description != put.description),
        ("applicationUri", now.application_uri != put.application_uri),
        ("redirectUri", now.redirect_uri != put.redirect_uri),
        ("avatarEmail", now.avatar_email != put.avatar_email),
    ]
    .into_iter()
    .filter_map(|(field, differs)| differs.then_some(field))
    .collect()
}

/// What other Application resources hold on the same Quay organization: the client IDs they
/// record, and the names they are creating. Keyed values say who ("namespace/name").
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Claims {
    /// client ID → the resource that records it.
    pub recorded: HashMap<String, String>,
    /// application name → a resource with a create of that name pending.
    pub creating: HashMap<String, String>,
}

impl Claims {
    /// Who else has `view`, if anyone.
    fn owner_of(&self, view: &AppView) -> Option<&String> {
        self.recorded
            .get(&view.client_id)
            .or_else(|| self.creating.get(&view.name))
    }
}

/// With nothing recorded: the one application of the organization known by the spec's names
/// and no other resource's (`Ok(Some)`: take it over), none (`Ok(None)`: create one), or a
/// refusal — another resource has it, or several fit and none may be chosen.
pub fn find_by_name(
    apps: &[AppView],
    d: &Desired,
    claims: &Claims,
    org: &str,
) -> Result<Option<AppView>, ApplicationError> {
    let named: Vec<&AppView> = apps
        .iter()
        .filter(|a| d.known_as.contains(&a.name.as_str()))
        .collect();
    let (claimed, free): (Vec<&AppView>, Vec<&AppView>) = named
        .into_iter()
        .partition(|a| claims.owner_of(a).is_some());
    match free.as_slice() {
        [] => match claimed.first() {
            Some(taken) => Err(ApplicationError::Claimed {
                field: field_for(taken, d),
                name: taken.name.clone(),
                org: org.to_owned(),
                client_id: taken.client_id.clone(),
                other: claims.owner_of(taken).cloned().unwrap_or_default(),
            }),
            None => Ok(None),
        },
        [one] => Ok(Some((*one).clone())),
        several => Err(ApplicationError::Ambiguous {
            field: if d.known_as.len() > 1 {
                "spec.newName"
            } else {
                "spec.name"
            },
            org: org.to_owned(),
            names: d
                .known_as
                .iter()
                .map(|n| format!("`{n}`"))
                .collect::<Vec<_>>()
                .join(" or "),
            client_ids: several.iter().map(|a| a.client_id.clone()).collect(),
        }),
    }
}

fn field_for(app: &AppView, d: &Desired) -> &'static str {
    if d.known_as.len() > 1 && d.known_as.last() == Some(&app.name.as_str()) {
        "spec.newName"
    } else {
        "spec.name"
    }
}

/// What became of a create that was started and never recorded.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Recovery {
    /// It made this application: it is this resource's.
    Made(AppView),
    /// It made nothing (Quay never got it, or the application is gone again).
    Nothing,
    /// Several new applications of that name appeared; which one is ours is unknown.
    Ambiguous(Vec<String>),
}

/// Finds the application an interrupted create made: one of the pending name that existed
/// neither before the create nor in any other resource's status.
pub fn recover(apps: &[AppView], pending: &PendingCreate, claims: &Claims) -> Recovery {
    let new: Vec<&AppView> = apps
        .iter()
        .filter(|a| a.name == pending.name)
        .filter(|a| !pending.known_client_ids.contains(&a.client_id))
        .filter(|a| !claims.recorded.contains_key(&a.client_id))
        .collect();
    match new.as_slice() {
        [] => Recovery::Nothing,
        [one] => Recovery::Made((*one).clone()),
        several => Recovery::Ambiguous(several.iter().map(|a| a.client_id.clone()).collect()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::redacted::Redacted;

    fn view(id: &str, name: &str) -> AppView {
        AppView {
            name: name.into(),
            description: "d".into(),
            application_uri: "http://home".into(),
            client_id: id.into(),
            client_secret: Redacted::new("S"),
            redirect_uri: "http://redirect".into(),
            avatar_email: None,
        }
    }

    fn desired(name: &'static str) -> Desired<'static> {
        Desired {
            name,
            known_as: vec![name],
            description: None,
            application_uri: None,
            redirect_uri: None,
            avatar_email: None,
        }
    }

    #[test]
    fn unset_fields_keep_quays_values_and_equal_ones_send_nothing() {
        let current = view("A", "extapp");
        assert_eq!(changes(&current, &desired("extapp")), None);
        let mut d = desired("extapp");
        d.description = Some("d");
        d.avatar_email = Some("");
        assert_eq!(changes(&current, &d), None, "an empty e-mail is no e-mail");
        d.description = Some("changed");
        let put = changes(&current, &d).unwrap();
        assert_eq!(put.description, "changed");
        assert_eq!(
            put.application_uri, "http://home",
            "a PUT replaces: Quay's value goes back"
        );
        assert_eq!(put.redirect_uri, "http://redirect");
    }

    #[test]
    fn a_rename_changes_only_the_name() {
        let put = changes(&view("A", "old"), &desired("new")).unwrap();
        assert_eq!(put.name, "new");
        assert_eq!(put.description, "d");
        assert_eq!(changed_fields(&view("A", "old"), &put), ["name"]);
    }

    #[test]
    fn create_fields_leave_unset_ones_empty() {
        let mut d = desired("extapp");
        d.redirect_uri = Some("http://r");
        let f = create_fields(&d);
        assert_eq!(
            (f.name.as_str(), f.redirect_uri.as_str()),
            ("extapp", "http://r")
        );
        assert_eq!((f.description.as_str(), f.avatar_email), ("", None));
    }

    #[test]
    fn one_free_application_of_the_name_is_taken_over() {
        let apps = [view("A", "extapp"), view("B", "other")];
        let found = find_by_name(&apps, &desired("extapp"), &Claims::default(), "o").unwrap();
        assert_eq!(found.unwrap().client_id, "A");
        assert_eq!(
            find_by_name(&apps, &desired("none"), &Claims::default(), "o").unwrap(),
            None,
            "none of that name: create"
        );
    }

    #[test]
    fn another_resources_application_is_a_conflict_never_a_second_one() {
        let apps = [view("A", "extapp")];
        let mut claims = Claims::default();
        claims.recorded.insert("A".into(), "ns/first".into());
        let e = find_by_name(&apps, &desired("extapp"), &claims, "o").unwrap_err();
        assert_eq!(e.reason(), "ApplicationConflict");
        assert!(e.to_string().contains("ns/first"), "{e}");
        let mut creating = Claims::default();
        creating.creating.insert("extapp".into(), "ns/busy".into());
        let e = find_by_name(&apps, &desired("extapp"), &creating, "o").unwrap_err();
        assert!(e.to_string().contains("ns/busy"), "{e}");
    }

    #[test]
    fn two_of_the_name_are_ambiguous() {
        let apps = [view("A", "extapp"), view("B", "extapp")];
        let e = find_by_name(&apps, &desired("extapp"), &Claims::default(), "o").unwrap_err();
        assert_eq!(e.reason(), "ApplicationAmbiguous");
        assert!(e.to_string().contains("A, B"), "{e}");
        let mut renaming = desired("new");
        renaming.known_as = vec!["old", "new"];
        let apps = [view("A", "old"), view("B", "new")];
        let e = find_by_name(&apps, &renaming, &Claims::default(), "o").unwrap_err();
        assert!(e.to_string().starts_with("spec.newName:"), "{e}");
        let apps = [view("A", "old")];
        assert_eq!(
            find_by_name(&apps, &renaming, &Claims::default(), "o")
                .unwrap()
                .map(|a| a.client_id),
            Some("A".into()),
            "the application still under its old name is the one to rename"
        );
    }

    #[test]
    fn an_interrupted_create_finds_only_its_own_application() {
        let pending = PendingCreate {
            name: "extapp".into(),
            known_client_ids: vec!["OLD".into()],
            ..Default::default()
        };
        let mut claims = Claims::default();
        claims.recorded.insert("THEIRS".into(), "ns/other".into());
        let apps = [
            view("OLD", "extapp"),
            view("THEIRS", "extapp"),
            view("X", "other"),
        ];
        assert_eq!(recover(&apps, &pending, &claims), Recovery::Nothing);
        let mut with_ours = apps.to_vec();
        with_ours.push(view("NEW", "extapp"));
        assert_eq!(
            recover(&with_ours, &pending, &claims),
            Recovery::Made(view("NEW", "extapp"))
        );
        with_ours.push(view("NEW2", "extapp"));
        assert_eq!(
            recover(&with_ours, &pending, &claims),
            Recovery::Ambiguous(vec!["NEW".into(), "NEW2".into()])
        );
    }
}

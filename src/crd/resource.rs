//! The declaration both kinds share: the API group and version, the scope and category, and the
//! printer columns every kind shows (Ready, Success, Secret, Message, Age), around its own.

/// Declares `$spec` as the spec of a namespaced custom resource of this operator's group, with
/// the shared printer columns; `lead` columns go before Secret, `trail` ones after Message.
macro_rules! quay_resource {
    (
        kind = $kind:literal,
        plural = $plural:literal,
        status = $status:literal,
        doc = $doc:literal,
        lead = [$($lead:tt)*],
        trail = [$($trail:tt)*],
        $(#[$attr:meta])*
        $vis:vis struct $spec:ident $body:tt
    ) => {
        // Every optional spec field is left out when unset, as users wrote the object.
        #[serde_with::skip_serializing_none]
        #[derive(
            kube::CustomResource,
            kube::KubeSchema,
            serde::Serialize,
            serde::Deserialize,
            Clone,
            Debug,
            PartialEq,
        )]
        #[kube(
            group = "quay.herve4m.github.io",
            version = "v1alpha1",
            kind = $kind,
            plural = $plural,
            namespaced,
            category = "quay",
            status = $status,
            doc = $doc,
            printcolumn(
                name = "Ready",
                type_ = "string",
                json_path = r#".status.conditions[?(@.type=="Ready")].status"#
            ),
            printcolumn(
                name = "Success",
                type_ = "string",
                json_path = r#".status.conditions[?(@.type=="Successful")].status"#,
                priority = "1"
            ),
            $($lead)*
            printcolumn(name = "Secret", type_ = "string", json_path = ".status.secretName"),
            printcolumn(name = "Message", type_ = "string", json_path = ".status.message"),
            $($trail)*
            printcolumn(
                name = "Age",
                type_ = "date",
                json_path = ".metadata.creationTimestamp"
            )
        )]
        // The printer columns repeat `type_ = ...` by design.
        #[allow(clippy::duplicated_attributes)]
        $(#[$attr])*
        $vis struct $spec $body
    };
}

pub(crate) use quay_resource;

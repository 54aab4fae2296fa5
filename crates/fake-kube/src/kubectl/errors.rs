//! kubectl's error printing (`cmdutil.CheckErr`): API status errors print as
//! `Error from server (Reason): message`, a lone Invalid error as `The Kind "name" is invalid: …`,
//! client-side errors as `error: …`; several errors (apply continues after a failure) print one
//! per line in their "standard" form, without the `error: ` prefix.

#[derive(Debug, Clone, PartialEq)]
pub enum KubeErr {
    /// An API server status error.
    Status { reason: String, message: String },
    /// A 422 Invalid status; `group_kind` like `Deployment.apps`, causes like `spec.selector: …`.
    Invalid { kind: String, group_kind: String, name: String, causes: Vec<String> },
    /// A client-side error.
    Plain(String),
}

impl KubeErr {
    pub fn status(reason: &str, message: impl Into<String>) -> KubeErr {
        KubeErr::Status { reason: reason.into(), message: message.into() }
    }

    /// `Error from server (NotFound): deployments.apps "x" not found`
    pub fn not_found(resource: &str, name: &str) -> KubeErr {
        KubeErr::status("NotFound", format!("{resource} \"{name}\" not found"))
    }

    pub fn plain(msg: impl Into<String>) -> KubeErr {
        KubeErr::Plain(msg.into())
    }

    fn server_message(&self) -> String {
        match self {
            KubeErr::Status { message, .. } => message.clone(),
            KubeErr::Invalid { group_kind, name, causes, .. } => {
                format!("{group_kind} \"{name}\" is invalid: {}", causes.join(", "))
            }
            KubeErr::Plain(m) => m.clone(),
        }
    }

    /// kubectl's `messageForError`: the form used inside a list of errors.
    fn standard(&self) -> String {
        match self {
            KubeErr::Status { reason, .. } => {
                format!("Error from server ({reason}): {}", self.server_message())
            }
            KubeErr::Invalid { .. } => {
                format!("Error from server (Invalid): {}", self.server_message())
            }
            KubeErr::Plain(m) => m.clone(),
        }
    }

    /// The form used when this is the only error.
    fn alone(&self) -> String {
        match self {
            KubeErr::Invalid { kind, name, causes, .. } => {
                let head = format!("The {kind} \"{name}\" is invalid: ");
                if causes.len() == 1 {
                    format!("{head}{}", causes[0])
                } else {
                    format!("{head}\n{}", causes.iter().map(|c| format!("* {c}")).collect::<Vec<_>>().join("\n"))
                }
            }
            KubeErr::Plain(m) if m.starts_with("error: ") => m.clone(),
            KubeErr::Plain(m) => format!("error: {m}"),
            other => other.standard(),
        }
    }

    /// Wraps the server message the way `AddSourceToErr` does for client-side apply/delete -f.
    pub fn with_source(self, verb: &str, source: &str) -> KubeErr {
        match self {
            KubeErr::Status { reason, message } => {
                KubeErr::Status { reason, message: format!("error when {verb} \"{source}\": {message}") }
            }
            other => other,
        }
    }
}

/// The stderr text for a set of errors (each line ends with a newline).
pub fn render(errs: &[KubeErr]) -> String {
    match errs {
        [] => String::new(),
        [one] => format!("{}\n", one.alone()),
        many => many.iter().map(|e| format!("{}\n", e.standard())).collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_like_kubectl_check_err() {
        assert_eq!(
            render(&[KubeErr::not_found("deployments.apps", "x")]),
            "Error from server (NotFound): deployments.apps \"x\" not found\n"
        );
        assert_eq!(render(&[KubeErr::plain("boom")]), "error: boom\n");
        let invalid = KubeErr::Invalid {
            kind: "Deployment".into(),
            group_kind: "Deployment.apps".into(),
            name: "web".into(),
            causes: vec!["spec.selector: Invalid value: x: field is immutable".into()],
        };
        assert_eq!(
            render(std::slice::from_ref(&invalid)),
            "The Deployment \"web\" is invalid: spec.selector: Invalid value: x: field is immutable\n"
        );
        assert_eq!(
            render(&[KubeErr::plain("resource mapping not found"), invalid]),
            "resource mapping not found\nError from server (Invalid): Deployment.apps \"web\" is invalid: spec.selector: Invalid value: x: field is immutable\n"
        );
        let sourced = KubeErr::status("NotFound", "namespaces \"x\" not found").with_source("creating", "STDIN");
        assert_eq!(
            render(&[sourced]),
            "Error from server (NotFound): error when creating \"STDIN\": namespaces \"x\" not found\n"
        );
    }
}

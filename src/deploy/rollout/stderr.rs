//! What kubectl's stderr means for a rollout: an error a later try gets past (an admission webhook
//! or a CRD not served yet), a refused or forbidden API that no wait will fix, an immutable field.
//! Pure text checks, so each rule is a table row in the tests.

/// kubectl's stderr says the API cannot be used at all (refused, unreachable, not allowed):
/// waiting longer will not help, so the wait stops at once.
pub(super) fn api_unusable(stderr: &str) -> bool {
    const SIGNS: &[&str] = &[
        "connection refused",
        "was refused",
        "Unable to connect to the server",
        "Forbidden",
        "forbidden:",
        "Unauthorized",
        "provide credentials",
        "no such host",
        "i/o timeout",
    ];
    SIGNS.iter().any(|sign| stderr.contains(sign))
}

/// Errors a later try can get past: an admission webhook or a CRD that is not served yet.
pub fn is_retryable(stderr: &str) -> bool {
    stderr.contains("failed calling webhook")
        || stderr.contains("no matches for kind")
        || stderr.contains("ensure CRDs are installed first")
        || stderr.contains("the server could not find the requested resource")
}

/// `The Deployment "x" is invalid: spec.selector: Invalid value: …: field is immutable` → `spec.selector`
pub fn immutable_field(stderr: &str) -> Option<String> {
    if !stderr.contains("field is immutable") {
        return None;
    }
    let line = stderr.lines().find(|line| line.contains("field is immutable"))?;
    let after = line.split("is invalid: ").nth(1).unwrap_or(line);
    Some(after.split(": ").next().unwrap_or(after).trim().to_string())
}

pub(super) fn first_line(text: &str) -> String {
    let line = text.lines().next().unwrap_or(text);
    if line.len() > 160 {
        format!("{}…", &line[..line.char_indices().nth(160).map(|(index, _)| index).unwrap_or(line.len())])
    } else {
        line.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn immutable_field_is_named() {
        let stderr =
            "The Deployment \"app\" is invalid: spec.selector: Invalid value: v1.LabelSelector{…}: field is immutable";
        assert_eq!(immutable_field(stderr).as_deref(), Some("spec.selector"));
        assert_eq!(immutable_field("error: something else"), None);
    }
    #[test]
    fn retryable_errors() {
        assert!(is_retryable("Error from server (InternalError): error when creating \"STDIN\": Internal error occurred: failed calling webhook \"validate.nginx.ingress.kubernetes.io\": …"));
        assert!(is_retryable("error: resource mapping not found for name: \"w\" namespace: \"\" from \"STDIN\": no matches for kind \"Widget\" in version \"example.com/v1\"\nensure CRDs are installed first"));
        assert!(!is_retryable("Error from server (NotFound): namespaces \"x\" not found"));
    }

    #[test]
    fn an_unusable_api_is_told_apart_from_not_ready_yet() {
        assert!(api_unusable(
            "The connection to the server 127.0.0.1:6443 was refused - did you specify the right host or port?"
        ));
        assert!(api_unusable(
            "Error from server (Forbidden): deployments.apps \"web\" is forbidden: User \"dev\" cannot get"
        ));
        assert!(!api_unusable("Error from server (NotFound): deployments.apps \"web\" not found"));
    }
}

//! The optional allow-list of Quay hosts (`--quay-hosts`). Every `host` a connection Secret
//! names is a server the operator connects to from its own network position, and whose
//! answers reach statuses and events; a cluster whose tenants must reach only known Quays
//! lists them here, and any other host is refused before a connection is made.

use std::fmt;
use url::Url;

/// One allowed host: an exact name or address, or `*.` and a domain for any name under it;
/// with a port, only that port.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Pattern {
    /// Lower-case host as a URL shows it (`quay.example.com`, `10.0.0.1`, `[::1]`).
    host: String,
    /// Whether `host` is a domain whose sub-domains match (`*.example.com`).
    wildcard: bool,
    port: Option<u16>,
}

impl Pattern {
    fn parse(item: &str) -> Result<Pattern, String> {
        let (wildcard, rest) = match item.strip_prefix("*.") {
            Some(rest) => (true, rest),
            None => (false, item),
        };
        // The URL parser normalises names and addresses as the connection's URL is.
        let url = Url::parse(&format!("http://{rest}/"))
            .map_err(|e| format!("{item:?} is not a host or host:port ({e})"))?;
        let host = url
            .host_str()
            .filter(|h| !h.is_empty())
            .ok_or_else(|| format!("{item:?} has no host name"))?;
        if url.path() != "/" || url.query().is_some() || !url.username().is_empty() {
            return Err(format!(
                "{item:?} is not a host or host:port (no scheme, path or user)"
            ));
        }
        if rest.contains('*') {
            return Err(format!(
                "{item:?}: `*.` is allowed only at the start, for every name under a domain"
            ));
        }
        Ok(Pattern {
            host: host.to_ascii_lowercase(),
            wildcard,
            port: url.port(),
        })
    }

    fn matches(&self, host: &str, port: Option<u16>) -> bool {
        let name = if self.wildcard {
            host.strip_suffix(self.host.as_str())
                .is_some_and(|head| head.len() > 1 && head.ends_with('.'))
        } else {
            host == self.host
        };
        name && self.port.is_none_or(|p| Some(p) == port)
    }
}

impl fmt::Display for Pattern {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.wildcard {
            f.write_str("*.")?;
        }
        f.write_str(&self.host)?;
        match self.port {
            Some(port) => write!(f, ":{port}"),
            None => Ok(()),
        }
    }
}

/// The Quay hosts the operator may connect to; empty allows any.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct QuayHosts {
    patterns: Vec<Pattern>,
}

impl QuayHosts {
    /// The list from its items (`quay.example.com`, `quay.example.com:8443`,
    /// `*.example.com`); empty items are skipped.
    pub fn parse<S: AsRef<str>>(items: &[S]) -> Result<QuayHosts, String> {
        let patterns = items
            .iter()
            .map(|i| i.as_ref().trim())
            .filter(|i| !i.is_empty())
            .map(Pattern::parse)
            .collect::<Result<_, _>>()?;
        Ok(QuayHosts { patterns })
    }

    /// Whether the list allows the Quay at `url` (a connection Secret's `host`, as checked);
    /// an empty list allows any.
    pub fn allows(&self, url: &str) -> bool {
        if self.patterns.is_empty() {
            return true;
        }
        let Ok(url) = Url::parse(url) else {
            return false;
        };
        let Some(host) = url.host_str() else {
            return false;
        };
        let host = host.to_ascii_lowercase();
        let port = url.port_or_known_default();
        self.patterns.iter().any(|p| p.matches(&host, port))
    }

    /// The list as the flag takes it, for messages.
    pub fn describe(&self) -> String {
        let items: Vec<String> = self.patterns.iter().map(Pattern::to_string).collect();
        items.join(",")
    }
}

/// A `host` the allow-list refuses; permanent until the Secret or the operator's list changes.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "the `host` key names {host}, which this operator's allow-list of Quay hosts (--quay-hosts) refuses, so nothing was sent to it; use a Quay on the list, or ask the operator's administrators to add this one"
)]
pub struct HostRefused {
    /// The refused host, as the connection settings show it.
    pub host: String,
}

impl QuayHosts {
    /// `Ok` when the list allows the Quay at `url` (see [`QuayHosts::allows`]).
    pub fn check(&self, url: &str) -> Result<(), HostRefused> {
        if self.allows(url) {
            Ok(())
        } else {
            Err(HostRefused {
                host: url.to_owned(),
            })
        }
    }
}

/// One item of `--quay-hosts`, checked and normalised; an empty one (a trailing comma) is
/// kept empty and skipped by [`QuayHosts::parse`].
pub fn parse_item(value: &str) -> Result<String, String> {
    let value = value.trim();
    if value.is_empty() {
        return Ok(String::new());
    }
    Pattern::parse(value).map(|p| p.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn list(items: &[&str]) -> QuayHosts {
        QuayHosts::parse(items).unwrap()
    }

    #[test]
    fn an_empty_list_allows_any_host() {
        assert!(list(&[]).allows("http://169.254.169.254"));
        assert!(list(&["", " "]).allows("https://anything.example"));
    }

    #[test]
    fn names_match_exactly_and_ports_when_given() {
        let hosts = list(&["Quay.Example.com", "127.0.0.1:8443", "[::1]"]);
        assert!(hosts.allows("https://quay.example.com"));
        assert!(hosts.allows("http://quay.example.com:9000/"));
        assert!(!hosts.allows("https://quay.example.com.evil.test"));
        assert!(!hosts.allows("https://evilquay.example.com"));
        assert!(hosts.allows("https://127.0.0.1:8443"));
        assert!(!hosts.allows("https://127.0.0.1"));
        assert!(!hosts.allows("http://127.0.0.2:8443"));
        assert!(hosts.allows("http://[::1]:80"));
        assert!(!hosts.allows("not a url"));
    }

    #[test]
    fn a_wildcard_matches_names_under_the_domain_only() {
        let hosts = list(&["*.example.com:443"]);
        assert!(hosts.allows("https://quay.example.com"));
        assert!(hosts.allows("https://a.b.example.com"));
        assert!(!hosts.allows("https://example.com"));
        assert!(!hosts.allows("https://badexample.com"));
        assert!(!hosts.allows("http://quay.example.com"));
    }

    #[test]
    fn items_that_are_not_hosts_are_refused() {
        for bad in [
            "https://quay.example.com",
            "quay.example.com/path",
            "user@quay.example.com",
            "quay.*.com",
            "*",
            "quay.example.com:99999",
        ] {
            assert!(parse_item(bad).is_err(), "{bad}");
        }
        assert_eq!(
            parse_item(" *.Example.com:8443 ").unwrap(),
            "*.example.com:8443"
        );
        assert_eq!(parse_item(" ").unwrap(), "");
    }
}

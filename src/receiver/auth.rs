//! Bearer-token authentication: each configured token names a tenant and, optionally, the
//! cluster everything it sends belongs to.
//!
//! Tokens are kept as SHA-256 digests and the presented token's digest is compared with
//! every one of them in constant time, so the time an answer takes says nothing about how
//! much of a guess was right. The check reads only the `authorization` header: the
//! receivers run it before they read a body.

use std::sync::Arc;

use sha2::{Digest, Sha256};

use crate::config::AuthConfig;

/// Who a token belongs to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Identity {
    pub tenant: Arc<str>,
    pub cluster: Option<Arc<str>>,
}

/// The token table.
pub struct Auth {
    tokens: Vec<([u8; 32], Identity)>,
}

fn digest(token: &[u8]) -> [u8; 32] {
    Sha256::digest(token).into()
}

/// Equal in time independent of where the inputs differ.
fn same(a: &[u8; 32], b: &[u8; 32]) -> bool {
    let diff = a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y));
    std::hint::black_box(diff) == 0
}

impl Auth {
    pub fn new(cfg: &AuthConfig) -> Self {
        let tokens = cfg
            .tokens
            .iter()
            .map(|t| {
                (
                    digest(t.token.as_bytes()),
                    Identity {
                        tenant: Arc::from(t.tenant.as_str()),
                        cluster: t.cluster.as_deref().map(Arc::from),
                    },
                )
            })
            .collect();
        Self { tokens }
    }

    /// The clusters tokens are bound to, each once: reserved for those tokens.
    pub fn bound_clusters(&self) -> Vec<Arc<str>> {
        let mut out: Vec<Arc<str>> = Vec::new();
        for (_, id) in &self.tokens {
            if let Some(c) = &id.cluster
                && !out.contains(c)
            {
                out.push(c.clone());
            }
        }
        out
    }

    /// Resolves an `authorization` header value (`Bearer <token>`, scheme case-insensitive).
    pub fn authenticate(&self, header: Option<&[u8]>) -> Option<&Identity> {
        let header = header?;
        let (scheme, token) = split_scheme(header)?;
        if !scheme.eq_ignore_ascii_case(b"bearer") {
            return None;
        }
        let presented = digest(token);
        // Every entry is compared, whichever matches.
        let mut found = None;
        for (d, id) in &self.tokens {
            if same(d, &presented) && found.is_none() {
                found = Some(id);
            }
        }
        found
    }
}

fn split_scheme(header: &[u8]) -> Option<(&[u8], &[u8])> {
    let header = header.trim_ascii();
    let space = header.iter().position(|b| *b == b' ')?;
    let (scheme, rest) = header.split_at(space);
    let token = rest.trim_ascii();
    (!token.is_empty()).then_some((scheme, token))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::TokenConfig;

    fn auth() -> Auth {
        Auth::new(&AuthConfig {
            tokens: vec![
                TokenConfig {
                    token: "s3cret".into(),
                    tenant: "team-a".into(),
                    cluster: Some("seoul-prod".into()),
                },
                TokenConfig {
                    token: "other".into(),
                    tenant: "team-b".into(),
                    cluster: None,
                },
            ],
        })
    }

    #[test]
    fn resolves_bearer_tokens() {
        let a = auth();
        let id = a.authenticate(Some(b"Bearer s3cret")).unwrap();
        assert_eq!(&*id.tenant, "team-a");
        assert_eq!(id.cluster.as_deref(), Some("seoul-prod"));
        assert_eq!(
            &*a.authenticate(Some(b"bearer   other ")).unwrap().tenant,
            "team-b"
        );
    }

    #[test]
    fn bound_clusters_are_listed_once() {
        let mut cfg = AuthConfig {
            tokens: vec![
                TokenConfig {
                    token: "x".into(),
                    tenant: "t".into(),
                    cluster: Some("a".into()),
                },
                TokenConfig {
                    token: "y".into(),
                    tenant: "t".into(),
                    cluster: Some("a".into()),
                },
            ],
        };
        assert_eq!(
            Auth::new(&cfg).bound_clusters(),
            vec![Arc::<str>::from("a")]
        );
        cfg.tokens[1].cluster = None;
        assert_eq!(
            auth().bound_clusters(),
            vec![Arc::<str>::from("seoul-prod")]
        );
        cfg.tokens[0].cluster = None;
        assert!(Auth::new(&cfg).bound_clusters().is_empty());
    }

    #[test]
    fn refuses_missing_wrong_or_malformed_tokens() {
        let a = auth();
        for h in [
            None,
            Some(&b""[..]),
            Some(b"Bearer"),
            Some(b"Bearer "),
            Some(b"Basic s3cret"),
            Some(b"Bearer s3cre"),
            Some(b"s3cret"),
        ] {
            assert!(a.authenticate(h).is_none(), "{h:?}");
        }
    }
}

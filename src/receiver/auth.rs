//! Bearer-token authentication: each configured token names a tenant and, optionally, the
//! cluster everything it sends belongs to.

use std::collections::HashMap;
use std::sync::Arc;

use crate::config::AuthConfig;

/// Who a token belongs to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Identity {
    pub tenant: Arc<str>,
    pub cluster: Option<Arc<str>>,
}

/// The token table.
pub struct Auth {
    tokens: HashMap<Vec<u8>, Identity>,
}

impl Auth {
    pub fn new(cfg: &AuthConfig) -> Self {
        let tokens = cfg
            .tokens
            .iter()
            .map(|t| {
                (
                    t.token.as_bytes().to_vec(),
                    Identity {
                        tenant: Arc::from(t.tenant.as_str()),
                        cluster: t.cluster.as_deref().map(Arc::from),
                    },
                )
            })
            .collect();
        Self { tokens }
    }

    /// Resolves an `authorization` header value (`Bearer <token>`, scheme case-insensitive).
    pub fn authenticate(&self, header: Option<&[u8]>) -> Option<&Identity> {
        let header = header?;
        let (scheme, token) = split_scheme(header)?;
        if !scheme.eq_ignore_ascii_case(b"bearer") {
            return None;
        }
        self.tokens.get(token)
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

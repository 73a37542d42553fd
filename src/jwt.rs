//! JSON Web Tokens from a council's own identity provider, as an alternative to API
//! tokens. Off unless a key is configured (`--jwt-key`). A token must be signed with the
//! configured key and algorithm, unexpired (`exp`), and from the configured issuer and
//! audience when those are set. Its claims map to the same roles:
//!
//! ```json
//! {"sub": "u-1234", "name": "Sam, Wigan Food Bank", "role": "editor",
//!  "orgs": ["0192…"], "exp": 1795000000, "iss": "https://idp.example.gov.uk"}
//! ```

use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde::Deserialize;
use uuid::Uuid;

use crate::auth::{Actor, Role};
use crate::error::{AppError, AppResult};

/// Checks JWTs against one key.
pub struct JwtVerifier {
    key: DecodingKey,
    validation: Validation,
}

impl std::fmt::Debug for JwtVerifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("JwtVerifier")
            .field("algorithms", &self.validation.algorithms)
            .finish_non_exhaustive()
    }
}

#[derive(Deserialize)]
struct Claims {
    sub: String,
    #[serde(default)]
    name: Option<String>,
    role: String,
    #[serde(default)]
    orgs: Vec<Uuid>,
    #[serde(default)]
    iss: Option<String>,
}

impl JwtVerifier {
    /// `algorithm` is RS256, ES256 or HS256; `key` a PEM public key (RS256, ES256) or the
    /// shared secret's bytes (HS256).
    pub fn new(
        algorithm: &str,
        key: &[u8],
        issuer: Option<&str>,
        audience: Option<&str>,
    ) -> anyhow::Result<Self> {
        let (algorithm, key) = match algorithm {
            "RS256" => (Algorithm::RS256, DecodingKey::from_rsa_pem(key)?),
            "ES256" => (Algorithm::ES256, DecodingKey::from_ec_pem(key)?),
            "HS256" => {
                anyhow::ensure!(key.len() >= 32, "an HS256 secret needs at least 32 bytes");
                (Algorithm::HS256, DecodingKey::from_secret(key))
            }
            other => {
                anyhow::bail!("{other:?} is not a supported JWT algorithm: RS256, ES256 or HS256")
            }
        };
        let mut validation = Validation::new(algorithm);
        validation.leeway = 30;
        if let Some(issuer) = issuer {
            validation.set_issuer(&[issuer]);
        }
        match audience {
            Some(audience) => validation.set_audience(&[audience]),
            None => validation.validate_aud = false,
        }
        Ok(Self { key, validation })
    }

    /// The actor a JWT stands for, or `UNAUTHENTICATED` saying why not.
    pub fn actor(&self, token: &str) -> AppResult<Actor> {
        let invalid =
            |why: &str| AppError::Unauthenticated(format!("the token is not valid: {why}"));
        let data =
            jsonwebtoken::decode::<Claims>(token, &self.key, &self.validation).map_err(|e| {
                use jsonwebtoken::errors::ErrorKind;
                invalid(match e.kind() {
                    ErrorKind::ExpiredSignature => "it has expired",
                    ErrorKind::InvalidSignature | ErrorKind::InvalidAlgorithm => {
                        "it is not signed with the configured key"
                    }
                    ErrorKind::InvalidIssuer => "it is from another issuer",
                    ErrorKind::InvalidAudience => "it is for another audience",
                    ErrorKind::MissingRequiredClaim(_) => "a required claim is missing",
                    _ => "it is malformed or its claims are not sub, role, orgs, exp",
                })
            })?;
        let claims = data.claims;
        let role = Role::from_stored(&claims.role)
            .ok_or_else(|| invalid("role is not link_worker, editor, moderator or admin"))?;
        if role == Role::Editor && claims.orgs.is_empty() {
            return Err(invalid("an editor's token names its organizations in orgs"));
        }
        if claims.sub.is_empty() || claims.sub.len() > 200 {
            return Err(invalid("sub is 1 to 200 characters"));
        }
        let name = claims
            .name
            .filter(|n| !n.trim().is_empty())
            .unwrap_or_else(|| claims.sub.clone());
        Ok(Actor {
            id: format!("jwt:{}:{}", claims.iss.unwrap_or_default(), claims.sub),
            name: name.chars().take(200).collect(),
            role,
            organizations: if role == Role::Editor {
                claims.orgs
            } else {
                Vec::new()
            },
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bad_configuration_is_refused_at_start() {
        assert!(JwtVerifier::new("HS256", b"too short", None, None).is_err());
        assert!(JwtVerifier::new("none", &[0; 64], None, None).is_err());
        assert!(JwtVerifier::new("RS256", b"not a pem", None, None).is_err());
        assert!(JwtVerifier::new("HS256", &[7; 32], None, None).is_ok());
    }
}

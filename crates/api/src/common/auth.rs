//! Credentials: the token schemes every dialect shares, the user a set of
//! credentials names, the [`Caller`] extractor that authenticates a
//! request in its dialect's forms and refuses it in its dialect's shape,
//! and the client address ([`Peer`]) login limits count by.

use std::convert::Infallible;
use std::marker::PhantomData;
use std::net::{IpAddr, SocketAddr};

use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::request::Parts;
use axum::http::{HeaderMap, header};
use berth_core::CoreError;
use berth_core::model::User;
use berth_core::service::Berth;

use super::error::{Dialect, DialectError};
use crate::AppState;

/// The token in `Authorization: token T` or `Authorization: Bearer T`.
pub fn bearer_token(headers: &HeaderMap) -> Option<&str> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?.trim();
    let (scheme, token) = value.split_once(' ')?;
    let token = token.trim();
    (["token", "bearer"].contains(&scheme.to_ascii_lowercase().as_str()) && !token.is_empty())
        .then_some(token)
}

/// What a request presented to say who it is.
pub enum Credentials {
    /// A Berth token, whichever header carried it.
    Token(String),
    /// A user name and a secret that is one of their tokens or their password
    /// (Tutum's `ApiKey user:key` and Basic).
    UserSecret { username: String, secret: String },
}

impl Credentials {
    /// The user these credentials name; `peer` is the client's address.
    pub async fn authenticate(&self, berth: &Berth, peer: Peer) -> Result<User, CoreError> {
        match self {
            Credentials::Token(token) => berth.authenticate(token).await,
            Credentials::UserSecret { username, secret } => {
                if let Ok(user) = berth.authenticate(secret).await
                    && user.username == *username
                {
                    return Ok(user);
                }
                match berth.check_password_cached(username, secret, peer.0).await {
                    Ok(user) => Ok(user),
                    Err(throttled @ CoreError::TooManyAttempts(_)) => Err(throttled),
                    Err(_) => Err(CoreError::Unauthenticated(
                        "Invalid username/apikey or password".into(),
                    )),
                }
            }
        }
    }

    /// The token these credentials carry, if they are one.
    fn token(&self) -> Option<&str> {
        match self {
            Credentials::Token(token) => Some(token),
            Credentials::UserSecret { .. } => None,
        }
    }
}

/// The address of the client that sent a request, when the server knows it.
#[derive(Debug, Clone, Copy, Default)]
pub struct Peer(pub Option<IpAddr>);

impl<S: Send + Sync> FromRequestParts<S> for Peer {
    type Rejection = Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(Peer::of(parts))
    }
}

impl Peer {
    pub fn of(parts: &Parts) -> Peer {
        Peer(
            parts
                .extensions
                .get::<ConnectInfo<SocketAddr>>()
                .map(|ConnectInfo(addr)| addr.ip()),
        )
    }
}

/// The authenticated caller of a request in dialect `D`.
pub struct Caller<D> {
    pub user: User,
    /// The token the caller presented, when it was one.
    pub token: Option<String>,
    dialect: PhantomData<D>,
}

impl<D: Dialect> FromRequestParts<AppState> for Caller<D> {
    type Rejection = DialectError<D>;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let credentials = D::credentials(parts)?
            .ok_or_else(|| CoreError::Unauthenticated(D::NO_CREDENTIALS.into()))?;
        Ok(Caller {
            user: credentials
                .authenticate(&state.berth, Peer::of(parts))
                .await?,
            token: credentials.token().map(str::to_string),
            dialect: PhantomData,
        })
    }
}

/// The caller of a request that may also be anonymous (registration):
/// `None` without credentials; credentials that fail are still refused.
pub struct MaybeCaller<D> {
    pub user: Option<User>,
    dialect: PhantomData<D>,
}

impl<D: Dialect> FromRequestParts<AppState> for MaybeCaller<D> {
    type Rejection = DialectError<D>;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let user = match D::credentials(parts)? {
            Some(credentials) => Some(
                credentials
                    .authenticate(&state.berth, Peer::of(parts))
                    .await?,
            ),
            None => None,
        };
        Ok(MaybeCaller {
            user,
            dialect: PhantomData,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    #[test]
    fn tokens_from_both_schemes() {
        let mut h = HeaderMap::new();
        assert_eq!(bearer_token(&h), None);
        h.insert(header::AUTHORIZATION, HeaderValue::from_static("token abc"));
        assert_eq!(bearer_token(&h), Some("abc"));
        h.insert(
            header::AUTHORIZATION,
            HeaderValue::from_static("Bearer xyz"),
        );
        assert_eq!(bearer_token(&h), Some("xyz"));
        h.insert(
            header::AUTHORIZATION,
            HeaderValue::from_static("Basic Zm9v"),
        );
        assert_eq!(bearer_token(&h), None);
    }
}

//! Which page of a `{count, next, previous, results}` listing a request
//! asked for: `?page=` numbers over a fixed page size.

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use utoipa::IntoParams;

use super::error::DeisError;
use super::views::PageLink;
use crate::AppState;

/// Page size of every `{count,next,previous,results}` listing.
pub const PAGE_SIZE: i64 = 100;

/// 1-based page number from `?page=`; anything unparsable is page 1.
pub fn page_number(raw: Option<&String>) -> i64 {
    raw.and_then(|p| p.parse::<i64>().ok())
        .filter(|p| *p >= 1)
        .unwrap_or(1)
        .min(1_000_000)
}

/// The query a paged listing takes.
#[derive(IntoParams)]
#[into_params(parameter_in = Query)]
#[expect(dead_code, reason = "describes the query `Paging` reads")]
pub struct PageQuery {
    /// Which page, from 1; 100 per page. Anything not a positive number is page 1.
    page: Option<i64>,
}

/// Which page of a listing was asked for, and where the listing lives.
pub struct Paging {
    /// The server's public URL, which links start with.
    pub base: String,
    pub path: String,
    pub page: i64,
}

impl Paging {
    pub fn offset(&self) -> i64 {
        (self.page - 1) * PAGE_SIZE
    }

    pub fn limit(&self) -> i64 {
        PAGE_SIZE
    }

    pub fn link(&self) -> PageLink<'_> {
        PageLink {
            base: &self.base,
            path: &self.path,
            page: self.page,
        }
    }
}

impl FromRequestParts<AppState> for Paging {
    type Rejection = DeisError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let page = parts
            .uri
            .query()
            .and_then(|q| serde_urlencoded::from_str::<Vec<(String, String)>>(q).ok())
            .and_then(|pairs| pairs.into_iter().find(|(k, _)| k == "page").map(|(_, v)| v));
        Ok(Paging {
            // The configured URL, never the Host header a client chose.
            base: state.berth.settings.public_url.clone(),
            path: parts.uri.path().to_string(),
            page: page_number(page.as_ref()),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pages() {
        assert_eq!(page_number(None), 1);
        assert_eq!(page_number(Some(&"3".to_string())), 3);
        assert_eq!(page_number(Some(&"-2".to_string())), 1);
        assert_eq!(page_number(Some(&"x".to_string())), 1);
    }
}

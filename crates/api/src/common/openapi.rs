//! The OpenAPI 3.1 document of every route, `GET /openapi.json`, and the
//! rendered reference at `/docs`. Each dialect describes its own routes
//! (its `openapi::document()`, built from the `#[utoipa::path]` of its
//! handlers and the `ToSchema` of its wire types) under one tag; this
//! module adds Berth's own routes and the credential schemes, and merges
//! them. The Swagger UI files are bundled in the binary, so `/docs` works
//! without a network.

use std::sync::{Arc, LazyLock};

use axum::extract::Path;
use axum::http::header;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use axum::{Json, Router};
use utoipa::openapi::security::{ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::openapi::{self, OpenApi as Document};
use utoipa::{Modify, OpenApi};

use crate::AppState;

/// The tag of Berth's own routes; each dialect's module names its own.
pub const TAG: &str = "berth";

/// Security scheme names the dialects' `security(...)` lists refer to.
pub mod scheme {
    /// `Authorization: token T` (Deis).
    pub const TOKEN: &str = "token";
    /// `Authorization: Bearer T` (RCABench, NDS Labs; every dialect takes it).
    pub const BEARER: &str = "bearer";
    /// `Authorization: ApiKey user:key` (Tutum).
    pub const API_KEY: &str = "apiKey";
    /// `Authorization: Basic` with a user name and a token or password (Tutum).
    pub const BASIC: &str = "basic";
    /// `X-Tapis-Token: T` (Tapis).
    pub const TAPIS_TOKEN: &str = "tapisToken";
    /// The web console's session cookie `berth_session`.
    pub const CONSOLE_SESSION: &str = "consoleSession";
}

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/openapi.json", get(openapi_json))
        .route("/docs", get(docs))
        .route("/docs/{*file}", get(docs_file))
}

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Berth",
        description = "One control plane speaking five container-management APIs: \
            Deis Controller v1 (`/v1`), Tutum v1 (`/api/v1`), Tapis Pods (`/v3/pods`, \
            also at `/pods`), RCABench containers v2 (`/api/v2`) and NDS Labs jobs (root). \
            Each dialect is one tag; every dialect also accepts a Berth token as \
            `Authorization: Bearer`. The web console's page and the JSON API it calls \
            (`/ui`) are the `console` tag.",
        license(name = "MIT OR Apache-2.0"),
    ),
    paths(
        super::health::healthz,
        super::metrics::metrics,
        openapi_json,
        docs,
        docs_file
    ),
    components(schemas(super::health::Health)),
    tags((name = "berth", description = "Berth's own routes: health, metrics and this document")),
    modifiers(&Credentials)
)]
struct Own;

/// The credential schemes of the five dialects and the web console.
struct Credentials;

impl Modify for Credentials {
    fn modify(&self, doc: &mut Document) {
        let components = doc.components.get_or_insert_with(Default::default);
        let authorization = |description: &str| {
            SecurityScheme::ApiKey(ApiKey::Header(ApiKeyValue::with_description(
                "Authorization",
                description,
            )))
        };
        components.add_security_scheme(
            scheme::TOKEN,
            authorization("`token <berth token>`, as the Deis client sends it"),
        );
        components.add_security_scheme(
            scheme::API_KEY,
            authorization("`ApiKey <user>:<token>`, as the Tutum client sends it"),
        );
        components.add_security_scheme(
            scheme::BEARER,
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
        components.add_security_scheme(
            scheme::BASIC,
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Basic).build()),
        );
        components.add_security_scheme(
            scheme::TAPIS_TOKEN,
            SecurityScheme::ApiKey(ApiKey::Header(ApiKeyValue::with_description(
                "X-Tapis-Token",
                "a Berth token, as tapipy sends it",
            ))),
        );
        components.add_security_scheme(
            scheme::CONSOLE_SESSION,
            SecurityScheme::ApiKey(ApiKey::Cookie(ApiKeyValue::with_description(
                "berth_session",
                "the web console's session, set by `POST /ui/api/login` (HttpOnly, \
                 SameSite=Strict, Path=/ui); its `POST`s also send `X-CSRF-Token`",
            ))),
        );
    }
}

/// The whole document: Berth's own routes and every dialect's.
pub fn document() -> Document {
    let mut doc = Own::openapi();
    for dialect in [
        crate::deis::openapi::document(),
        crate::tutum::openapi::document(),
        crate::tapis::openapi::document(),
        crate::rcabench::openapi::document(),
        crate::nds::openapi::document(),
        crate::console::openapi::document(),
    ] {
        doc.merge(dialect);
    }
    doc.openapi = openapi::OpenApiVersion::Version31;
    doc
}

static DOCUMENT: LazyLock<Document> = LazyLock::new(document);

/// This document, to anyone.
#[utoipa::path(get, path = "/openapi.json", tag = "berth",
    responses((status = 200, description = "The OpenAPI 3.1 document of every route", content_type = "application/json")))]
async fn openapi_json() -> Json<&'static Document> {
    Json(&DOCUMENT)
}

/// The rendered reference; its files sit under `/docs/`.
#[utoipa::path(get, path = "/docs", tag = "berth",
    responses((status = 303, description = "To `/docs/index.html`")))]
async fn docs() -> Redirect {
    Redirect::to("/docs/index.html")
}

static SWAGGER: LazyLock<Arc<utoipa_swagger_ui::Config<'static>>> = LazyLock::new(|| {
    Arc::new(
        utoipa_swagger_ui::Config::from("/openapi.json")
            // The public validator is a network call; the page must work offline.
            .validator_url("none")
            .try_it_out_enabled(true),
    )
});

/// One file of the reference page.
#[utoipa::path(get, path = "/docs/{file}", tag = "berth",
    params(("file" = String, Path, description = "A file of the page, e.g. `index.html`")),
    responses(
        (status = 200, description = "The file"),
        (status = 404, description = "No such file"),
    ))]
async fn docs_file(Path(file): Path<String>) -> Response {
    let Some(found) = utoipa_swagger_ui::serve(&file, SWAGGER.clone())
        .ok()
        .flatten()
    else {
        return super::error::not_found().await;
    };
    let mut response = (
        [
            (header::CONTENT_TYPE, found.content_type),
            (header::CACHE_CONTROL, "public, max-age=3600".to_string()),
        ],
        found.bytes.into_owned(),
    )
        .into_response();
    if found.gzpipped {
        response.headers_mut().insert(
            header::CONTENT_ENCODING,
            header::HeaderValue::from_static("gzip"),
        );
    }
    response
}

//! The OpenAPI description of the Deis Controller v1 routes: the `#[utoipa::path]`
//! of each handler and the `ToSchema` wire types, under the `deis` tag.

use utoipa::openapi::path::{HttpMethod, Operation};
use utoipa::openapi::response::ResponseBuilder;
use utoipa::openapi::{Content, OpenApi as Document, Ref};
use utoipa::{Modify, OpenApi};

use super::error::ErrorBody;
use super::views::{
    AdminView, AppView, BuildView, CertificateView, ConfigView, ContainerView, DomainView, KeyView,
    Listing, NodeView, ReleaseView, UserView,
};
use super::{apps, auth, builds, certs, config, containers, domains, events, keys, nodes};
use super::{perms, releases, users};

#[derive(OpenApi)]
#[openapi(
    tags((name = "deis", description = "Deis Controller v1, Berth's native API, at `/v1`")),
    paths(
        auth::handshake,
        auth::register,
        auth::login,
        auth::cancel,
        auth::passwd,
        auth::regenerate,
        apps::list,
        apps::create,
        apps::detail,
        apps::destroy,
        apps::logs,
        apps::run,
        builds::list_builds,
        builds::create_build,
        config::config,
        config::set_config,
        releases::list_releases,
        releases::rollback,
        releases::release,
        containers::containers,
        containers::restart,
        containers::containers_of_type,
        containers::restart_type,
        containers::restart_one,
        containers::scale,
        events::of_app,
        events::all,
        domains::list_domains,
        domains::add_domain,
        domains::remove_domain,
        perms::list_perms,
        perms::add_perm,
        perms::remove_perm,
        perms::list_admins,
        perms::add_admin,
        perms::remove_admin,
        users::list_users,
        nodes::list_nodes,
        certs::list_certs,
        certs::add_cert,
        certs::cert,
        certs::remove_cert,
        keys::list_keys,
        keys::add_key,
        keys::remove_key,
    ),
    components(schemas(
        ErrorBody,
        AppView,
        BuildView,
        ConfigView,
        ReleaseView,
        ContainerView,
        DomainView,
        KeyView,
        CertificateView,
        UserView,
        AdminView,
        NodeView,
        Listing<AppView>,
        Listing<BuildView>,
        Listing<ReleaseView>,
        Listing<ContainerView>,
        Listing<DomainView>,
        Listing<KeyView>,
        Listing<CertificateView>,
        Listing<UserView>,
        Listing<AdminView>,
        Listing<NodeView>,
    )),
    modifiers(&Refusals, &PostedUnshare)
)]
struct Described;

pub fn document() -> Document {
    Described::openapi()
}

/// Every operation that takes credentials may answer 401 (none, or not
/// valid); the `Caller` extractor refuses before the handler runs, so the
/// handlers' own lists leave it out.
struct Refusals;

impl Modify for Refusals {
    fn modify(&self, doc: &mut Document) {
        for item in doc.paths.paths.values_mut() {
            for operation in operations(item) {
                let secured = operation.security.as_ref().is_some_and(|s| !s.is_empty());
                let responses = &mut operation.responses.responses;
                if secured && !responses.contains_key("401") {
                    responses.insert(
                        "401".to_string(),
                        ResponseBuilder::new()
                            .description("No credentials, or they are not valid")
                            .header(
                                "WWW-Authenticate",
                                utoipa::openapi::header::HeaderBuilder::new()
                                    .description(Some("`Token`"))
                                    .build(),
                            )
                            .content(
                                "application/json",
                                Content::new(Some(Ref::from_schema_name(
                                    <ErrorBody as utoipa::ToSchema>::name(),
                                ))),
                            )
                            .build()
                            .into(),
                    );
                }
            }
        }
    }
}

/// The seed documents removing a collaborator as a `POST`, Deis's own code
/// and CLI as a `DELETE`; the router serves both, so the document lists both.
struct PostedUnshare;

impl Modify for PostedUnshare {
    fn modify(&self, doc: &mut Document) {
        let Some(item) = doc.paths.paths.get_mut("/v1/apps/{id}/perms/{username}") else {
            return;
        };
        if let Some(delete) = item.delete.clone() {
            let mut post = delete;
            post.operation_id = Some("deis_perms_remove_by_post".into());
            item.merge_operations(utoipa::openapi::PathItem::new(HttpMethod::Post, post));
        }
    }
}

fn operations(item: &mut utoipa::openapi::PathItem) -> impl Iterator<Item = &mut Operation> {
    [
        item.get.as_mut(),
        item.put.as_mut(),
        item.post.as_mut(),
        item.delete.as_mut(),
        item.patch.as_mut(),
    ]
    .into_iter()
    .flatten()
}

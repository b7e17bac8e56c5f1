//! The OpenAPI description of the Tapis Pods routes: the `#[utoipa::path]`
//! of each handler and the `ToSchema` wire types, under the `tapis` tag.
//! The routes served at `/v3/pods` are served at `/pods` too; the document
//! lists each once more there, its operation id ending in `_at_pods`. The
//! permission and file routes share one generic handler per kind of
//! object; their descriptions sit here, one per route.

use std::collections::BTreeMap;

use utoipa::openapi::path::PathItem;
use utoipa::openapi::{ContentBuilder, Ref, RefOr, ResponseBuilder, response::Response};
use utoipa::{IntoResponses, OpenApi, ToSchema};

use super::error::ErrorBody;
use super::views::{Envelope, Permissions, StoredFile};
use super::{auth, files, images, pods, snapshots, templates, tokens, volumes};

/// Where the pod routes are mounted, and where again.
const PREFIX: &str = "/v3/pods";
const ALIAS: &str = "/pods";

/// The refusals every route with a caller may answer, each in the error
/// envelope: a malformed request or field (400), no or a bad token (401),
/// a permission the caller lacks (403), no such object (404), a clash with
/// what exists (409), and the container engine not answering (503).
pub struct Refusals;

/// The refusals of a route that checks a password: those of [`Refusals`]
/// and too many failed attempts (429).
pub struct LoginRefusals;

fn refusal(description: &str) -> RefOr<Response> {
    ResponseBuilder::new()
        .description(description)
        .content(
            "application/json",
            ContentBuilder::new()
                .schema(Some(Ref::from_schema_name(ErrorBody::name())))
                .build(),
        )
        .build()
        .into()
}

fn refusals() -> BTreeMap<String, RefOr<Response>> {
    [
        ("400", "A malformed request, or a field it refuses"),
        ("401", "No token, or one that is not valid"),
        ("403", "The caller may not do this"),
        ("404", "No such object, or none the caller may see"),
        ("409", "It clashes with what exists"),
        ("503", "The container engine is not answering"),
    ]
    .into_iter()
    .map(|(status, description)| (status.to_string(), refusal(description)))
    .collect()
}

impl IntoResponses for Refusals {
    fn responses() -> BTreeMap<String, RefOr<Response>> {
        refusals()
    }
}

impl IntoResponses for LoginRefusals {
    fn responses() -> BTreeMap<String, RefOr<Response>> {
        let mut responses = refusals();
        responses.insert(
            "429".into(),
            refusal("Too many failed login attempts; try again later"),
        );
        responses
    }
}

/// The permission routes of one kind of object, served by
/// `permissions::{get_permissions, set_permission, delete_permission}`.
macro_rules! permission_routes {
    ($noun:tt, $param:tt, $base:tt, $user_path:tt, $get:ident, $set:ident, $delete:ident) => {
        #[doc = concat!("The permissions on a ", $noun, ", `user:LEVEL` each.")]
        #[utoipa::path(get, path = $base, tag = "tapis", operation_id = stringify!($get),
            params(($param = String, Path)),
            responses((status = 200, description = "The permissions", body = Envelope<Permissions>), Refusals),
            security(("tapisToken" = []), ("bearer" = [])))]
        #[allow(dead_code)]
        fn $get() {}

        #[doc = concat!("Grants a user a level (`READ`, `USER` or `ADMIN`) on a ", $noun, "; its admins only.")]
        #[utoipa::path(post, path = $base, tag = "tapis", operation_id = stringify!($set),
            params(($param = String, Path)),
            request_body(content((super::permissions::Grant = "application/json"),
                (super::permissions::Grant = "application/x-www-form-urlencoded"))),
            responses((status = 200, description = "The permissions now", body = Envelope<Permissions>), Refusals),
            security(("tapisToken" = []), ("bearer" = [])))]
        #[allow(dead_code)]
        fn $set() {}

        #[doc = concat!("Takes a user's permission on a ", $noun, " away; its admins only.")]
        #[utoipa::path(delete, path = $user_path, tag = "tapis", operation_id = stringify!($delete),
            params(($param = String, Path), ("user" = String, Path)),
            responses((status = 200, description = "The permissions now", body = Envelope<Permissions>), Refusals),
            security(("tapisToken" = []), ("bearer" = [])))]
        #[allow(dead_code)]
        fn $delete() {}
    };
}

permission_routes!(
    "pod",
    "pod_id",
    "/v3/pods/{pod_id}/permissions",
    "/v3/pods/{pod_id}/permissions/{user}",
    tapis_pod_permissions_get,
    tapis_pod_permissions_set,
    tapis_pod_permission_delete
);
permission_routes!(
    "template",
    "template_id",
    "/v3/pods/templates/{template_id}/permissions",
    "/v3/pods/templates/{template_id}/permissions/{user}",
    tapis_template_permissions_get,
    tapis_template_permissions_set,
    tapis_template_permission_delete
);
permission_routes!(
    "volume",
    "volume_id",
    "/v3/pods/volumes/{volume_id}/permissions",
    "/v3/pods/volumes/{volume_id}/permissions/{user}",
    tapis_volume_permissions_get,
    tapis_volume_permissions_set,
    tapis_volume_permission_delete
);
permission_routes!(
    "snapshot",
    "snapshot_id",
    "/v3/pods/snapshots/{snapshot_id}/permissions",
    "/v3/pods/snapshots/{snapshot_id}/permissions/{user}",
    tapis_snapshot_permissions_get,
    tapis_snapshot_permissions_set,
    tapis_snapshot_permission_delete
);

/// The file routes of volumes and snapshots, served by
/// `volumes::{list_files, get_contents}`.
macro_rules! folder_routes {
    ($noun:tt, $param:tt, $list_path:tt, $contents_path:tt, $list:ident, $contents:ident) => {
        #[doc = concat!("The files of a ", $noun, ".")]
        #[utoipa::path(get, path = $list_path, tag = "tapis", operation_id = stringify!($list),
            params(($param = String, Path)),
            responses((status = 200, description = "Its files", body = Envelope<Vec<StoredFile>>), Refusals),
            security(("tapisToken" = []), ("bearer" = [])))]
        #[allow(dead_code)]
        fn $list() {}

        #[doc = concat!("A file of a ", $noun, " as its bytes, or a directory as a tar archive.")]
        #[utoipa::path(get, path = $contents_path, tag = "tapis", operation_id = stringify!($contents),
            params(($param = String, Path),
                ("path" = String, Path, description = "The file or directory, from the top"),
                ("zip" = Option<bool>, Query, description = "Refused when true: directories download as tar")),
            responses(
                (status = 200, description = "The file (`application/octet-stream`) or the directory (`application/x-tar`), as an attachment",
                    content(([u8] = "application/octet-stream"), ([u8] = "application/x-tar"))),
                Refusals),
            security(("tapisToken" = []), ("bearer" = [])))]
        #[allow(dead_code)]
        fn $contents() {}
    };
}

folder_routes!(
    "volume",
    "volume_id",
    "/v3/pods/volumes/{volume_id}/list",
    "/v3/pods/volumes/{volume_id}/contents/{path}",
    tapis_volume_files_list,
    tapis_volume_contents_get
);
folder_routes!(
    "snapshot",
    "snapshot_id",
    "/v3/pods/snapshots/{snapshot_id}/list",
    "/v3/pods/snapshots/{snapshot_id}/contents/{path}",
    tapis_snapshot_files_list,
    tapis_snapshot_contents_get
);

#[derive(OpenApi)]
#[openapi(
    paths(
        tokens::create_token,
        pods::list_pods,
        pods::create_pod,
        pods::get_pod,
        pods::update_pod,
        pods::delete_pod,
        pods::start_pod,
        pods::stop_pod,
        pods::restart_pod,
        pods::get_pod_logs,
        pods::get_pod_credentials,
        pods::get_derived_pod,
        auth::pod_auth,
        auth::pod_auth_login,
        auth::pod_auth_callback,
        files::exec_pod_commands,
        files::upload_to_pod,
        files::list_files_in_pod,
        files::list_files_in_pod_at,
        files::download_from_pod,
        files::download_from_pod_at,
        images::list_images,
        images::add_image,
        images::add_images,
        images::get_image,
        images::delete_image,
        volumes::list_volumes,
        volumes::create_volume,
        volumes::get_volume,
        volumes::update_volume,
        volumes::delete_volume,
        volumes::upload_to_volume,
        snapshots::list_snapshots,
        snapshots::create_snapshot,
        snapshots::get_snapshot,
        snapshots::update_snapshot,
        snapshots::delete_snapshot,
        templates::list_templates,
        templates::add_template,
        templates::list_templates_and_tags,
        templates::get_template,
        templates::update_template,
        templates::delete_template,
        templates::list_template_tags,
        templates::add_template_tag,
        templates::get_template_tag,
        templates::save_pod_as_template_tag,
        tapis_pod_permissions_get,
        tapis_pod_permissions_set,
        tapis_pod_permission_delete,
        tapis_template_permissions_get,
        tapis_template_permissions_set,
        tapis_template_permission_delete,
        tapis_volume_permissions_get,
        tapis_volume_permissions_set,
        tapis_volume_permission_delete,
        tapis_snapshot_permissions_get,
        tapis_snapshot_permissions_set,
        tapis_snapshot_permission_delete,
        tapis_volume_files_list,
        tapis_volume_contents_get,
        tapis_snapshot_files_list,
        tapis_snapshot_contents_get,
    ),
    components(schemas(ErrorBody)),
    tags((name = "tapis", description = "Tapis Pods at `/v3/pods` (also served at `/pods`) \
        and its tokens at `/v3/oauth2/tokens`; every answer is the envelope \
        `{status, message, result, version, metadata}`"))
)]
struct Described;

/// The Tapis routes, those at `/v3/pods` listed again at `/pods`.
pub fn document() -> utoipa::openapi::OpenApi {
    let mut doc = Described::openapi();
    let aliases: Vec<(String, PathItem)> = doc
        .paths
        .paths
        .iter()
        .filter_map(|(path, item)| {
            let rest = path.strip_prefix(PREFIX)?;
            let mut item = item.clone();
            for operation in operations(&mut item) {
                if let Some(id) = operation.operation_id.as_mut() {
                    id.push_str("_at_pods");
                }
            }
            Some((format!("{ALIAS}{rest}"), item))
        })
        .collect();
    doc.paths.paths.extend(aliases);
    doc
}

/// Every operation a path item holds.
fn operations(item: &mut PathItem) -> impl Iterator<Item = &mut utoipa::openapi::path::Operation> {
    [
        item.get.as_mut(),
        item.put.as_mut(),
        item.post.as_mut(),
        item.delete.as_mut(),
        item.options.as_mut(),
        item.head.as_mut(),
        item.patch.as_mut(),
        item.trace.as_mut(),
    ]
    .into_iter()
    .flatten()
}

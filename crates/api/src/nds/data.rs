//! Images jobs can run in, and data sets they can read.

use axum::Json;
use axum::extract::{FromRequest, Multipart, Path, Request, State};
use axum::http::StatusCode;
use axum::response::Response;
use berth_core::CoreError;
use berth_core::service::Berth;
use utoipa::ToSchema;

use super::error::NdsResult;
use super::openapi::{BadRequest, Conflict, File, NotFound, Unauthorized};
use super::views::{DatasetAdded, DatasetView, Image};
use super::{Caller, views};
use crate::AppState;

/// The parts of a data set upload the handler reads.
#[derive(ToSchema)]
#[schema(as = nds::DatasetUpload)]
#[expect(
    dead_code,
    reason = "describes the form parts the handler reads one by one"
)]
pub struct DatasetUpload {
    /// A file, or a `.tar` to unpack.
    #[schema(value_type = String, format = Binary)]
    file: Vec<u8>,
    /// The data set's name; the file's name without `.tar` by default.
    name: Option<String>,
    /// Whether to unpack the file as a tar; by default, when it is a `.tar`.
    unpack: Option<bool>,
}

/// The images jobs can run in.
#[utoipa::path(get, path = "/list_images", tag = "nds",
    operation_id = "nds_images_list",
    responses(
        (status = 200, description = "The images", body = Vec<Image>),
        Unauthorized,
    ),
    security(("bearer" = []), ("token" = [])))]
pub async fn list_images(
    State(s): State<AppState>,
    Caller { user, .. }: Caller,
) -> NdsResult<Json<Vec<Image>>> {
    let images = s.berth.script_job_images(&user).await?;
    Ok(Json(
        images
            .into_iter()
            .map(|(name, tag)| views::image(name, tag))
            .collect(),
    ))
}

/// Where a data set downloads from: under the server's configured public
/// URL, never the Host header a client chose.
fn dataset_url(berth: &Berth, name: &str) -> String {
    format!("{}/v1/datasets/{name}", berth.settings.public_url)
}

/// The data sets jobs can read: the caller's and the shared ones (also
/// served at `GET /v1/datasets`).
#[utoipa::path(get, path = "/list_data", tag = "nds",
    operation_id = "nds_data_list",
    responses(
        (status = 200, description = "The data sets", body = Vec<DatasetView>),
        Unauthorized,
    ),
    security(("bearer" = []), ("token" = [])))]
pub async fn list_data(
    State(s): State<AppState>,
    Caller { user, .. }: Caller,
) -> NdsResult<Json<Vec<DatasetView>>> {
    let datasets = s.berth.datasets(&user).await?;
    Ok(Json(
        datasets
            .iter()
            .map(|d| views::dataset(d, dataset_url(&s.berth, &d.name)))
            .collect(),
    ))
}

/// Add a data set, multipart: `file` (a file, or a `.tar` to unpack),
/// optional `name` (default: the file's name without `.tar`) and `unpack`.
#[utoipa::path(post, path = "/v1/datasets", tag = "nds",
    operation_id = "nds_datasets_upload",
    request_body(content = DatasetUpload, content_type = "multipart/form-data"),
    responses(
        (status = 201, description = "The data set added", body = DatasetAdded),
        BadRequest, Unauthorized, Conflict,
    ),
    security(("bearer" = []), ("token" = [])))]
pub async fn upload_dataset(
    State(s): State<AppState>,
    Caller { user, .. }: Caller,
    req: Request,
) -> NdsResult<(StatusCode, Json<DatasetAdded>)> {
    let mut form = Multipart::from_request(req, &()).await.map_err(|e| {
        CoreError::invalid(format!("send the data set as multipart/form-data ({e})"))
    })?;
    let malformed = |e: axum::extract::multipart::MultipartError| {
        CoreError::invalid(format!("malformed multipart body: {e}"))
    };
    let (mut name, mut unpack, mut file) = (None, None, None);
    while let Some(mut field) = form.next_field().await.map_err(malformed)? {
        let field_name = field.name().unwrap_or_default().to_string();
        if field_name == "file" {
            // Written to disk as it arrives; a body cut off drops the spool,
            // which removes what arrived.
            let file_name = field.file_name().map(str::to_string);
            let mut spool = s.berth.begin_dataset_upload(&user).await?;
            while let Some(chunk) = field.chunk().await.map_err(malformed)? {
                spool.write(&chunk).await?;
            }
            file = Some((file_name.unwrap_or_default(), spool));
            continue;
        }
        let bytes = field.bytes().await.map_err(malformed)?;
        match field_name.as_str() {
            "name" => name = Some(String::from_utf8_lossy(&bytes).trim().to_string()),
            "unpack" => {
                unpack = Some(crate::common::parse_flag(
                    "unpack",
                    &String::from_utf8_lossy(&bytes),
                )?)
            }
            _ => {}
        }
    }
    let (file_name, spool) =
        file.ok_or_else(|| CoreError::invalid_field("file", "this field is required"))?;
    let file_name = file_name
        .rsplit(['/', '\\'])
        .next()
        .unwrap_or_default()
        .to_string();
    let is_tar = file_name.ends_with(".tar");
    let name = name.filter(|n| !n.is_empty()).unwrap_or_else(|| {
        file_name
            .strip_suffix(".tar")
            .unwrap_or(&file_name)
            .to_string()
    });
    let unpack = unpack.unwrap_or(is_tar);
    let summary = s
        .berth
        .add_dataset(&user, &name, file_name, unpack, spool)
        .await?;
    Ok((
        StatusCode::CREATED,
        Json(views::dataset_added(
            &summary,
            dataset_url(&s.berth, &summary.name),
        )),
    ))
}

/// Download a data set as a tar.
#[utoipa::path(get, path = "/v1/datasets/{name}", tag = "nds",
    operation_id = "nds_datasets_download",
    params(("name" = String, Path, description = "The data set's name")),
    responses(
        (status = 200, description = "The data set as a tar", content_type = "application/x-tar",
            body = File,
            headers(("content-disposition" = String, description = "`attachment; filename=\"<name>.tar\"`"))),
        Unauthorized, NotFound,
    ),
    security(("bearer" = []), ("token" = [])))]
pub async fn download_dataset(
    State(s): State<AppState>,
    Caller { user, .. }: Caller,
    Path(name): Path<String>,
) -> NdsResult<Response> {
    let tar = s.berth.dataset_archive(&user, &name).await?;
    Ok(views::attachment(
        "application/x-tar",
        &format!("{name}.tar"),
        tar,
    ))
}

/// Remove a data set; only one's own.
#[utoipa::path(delete, path = "/v1/datasets/{name}", tag = "nds",
    operation_id = "nds_datasets_remove",
    params(("name" = String, Path, description = "The data set's name")),
    responses(
        (status = 204, description = "Removed"),
        Unauthorized, NotFound,
    ),
    security(("bearer" = []), ("token" = [])))]
pub async fn remove_dataset(
    State(s): State<AppState>,
    Caller { user, .. }: Caller,
    Path(name): Path<String>,
) -> NdsResult<StatusCode> {
    s.berth.remove_dataset(&user, &name).await?;
    Ok(StatusCode::NO_CONTENT)
}

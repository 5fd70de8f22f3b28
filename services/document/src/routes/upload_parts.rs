//! The parts of an upload's multipart body: short text fields, and the
//! file streamed to a temporary file (hashed, size-capped, its first bytes
//! kept for sniffing) so no upload is ever held in memory.

use actix_multipart::Field;
use futures_util::TryStreamExt;
use sha2::{Digest, Sha256};
use tokio::io::AsyncWriteExt;
use yizhan_kit::{FieldError, Problem};

use crate::AppState;
use crate::domain;
use crate::error::Error;

pub(super) const TEXT_FIELD_LIMIT: usize = 256;
pub(super) const SNIFF_LEN: usize = 64;
/// Bytes read past the size cap before giving up on the client.
const DRAIN_LIMIT: u64 = 16 * 1024 * 1024;

/// A file part, received.
pub(super) struct ReceivedFile {
    pub(super) temp: tempfile::TempPath,
    pub(super) sha256: String,
    pub(super) size: u64,
    pub(super) head: Vec<u8>,
    pub(super) filename: String,
}

pub(super) fn multipart_problem(e: actix_multipart::MultipartError) -> Error {
    use actix_multipart::MultipartError as M;
    match e {
        M::ContentTypeMissing
        | M::ContentTypeParse
        | M::ContentTypeIncompatible
        | M::BoundaryMissing => Problem::new(
            actix_web::http::StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
            "不支持的内容类型",
        )
        .with_detail("上传须使用 multipart/form-data 表单")
        .into(),
        other => Problem::bad_request(
            "body",
            "invalid_multipart",
            format!("无法读取 multipart 表单：{other}"),
        )
        .into(),
    }
}

pub(super) async fn read_text(mut field: Field, name: &str) -> Result<String, Error> {
    let mut buf = Vec::new();
    while let Some(chunk) = field.try_next().await.map_err(multipart_problem)? {
        buf.extend_from_slice(&chunk);
        if buf.len() > TEXT_FIELD_LIMIT {
            return Err(Problem::field(name, "too_long", format!("字段 {name} 过长")).into());
        }
    }
    String::from_utf8(buf).map_err(|_| {
        Problem::field(
            name,
            "invalid_encoding",
            format!("字段 {name} 须为 UTF-8 文本"),
        )
        .into()
    })
}

/// Streams the file part to a temporary file, hashing as it goes; never
/// holds more than one chunk in memory.
pub(super) async fn receive_file(
    mut field: Field,
    state: &AppState,
) -> Result<ReceivedFile, Error> {
    let filename = domain::sanitize_filename(
        field
            .content_disposition()
            .and_then(|cd| cd.get_filename())
            .unwrap_or_default(),
    );
    let temp = tempfile::NamedTempFile::new_in(state.store.temp_dir())?.into_temp_path();
    let mut out = tokio::fs::File::create(&temp).await?;
    let mut hasher = Sha256::new();
    let mut size: u64 = 0;
    let mut head = Vec::with_capacity(SNIFF_LEN);
    while let Some(chunk) = field.try_next().await.map_err(multipart_problem)? {
        size += chunk.len() as u64;
        if size > state.max_upload_bytes {
            // Read (and drop) a bounded remainder so the client, still
            // sending, gets to read our 413 instead of a reset connection.
            let mut drained: u64 = 0;
            while drained < DRAIN_LIMIT
                && let Ok(Some(rest)) = field.try_next().await
            {
                drained += rest.len() as u64;
            }
            return Err(Problem::new(
                actix_web::http::StatusCode::PAYLOAD_TOO_LARGE,
                "file_too_large",
                "文件过大",
            )
            .with_detail(format!(
                "单个文件不得超过 {} MB",
                state.max_upload_bytes / (1024 * 1024)
            ))
            .with_field(FieldError::new(
                "file",
                "file_too_large",
                "文件超过大小上限",
            ))
            .into());
        }
        if head.len() < SNIFF_LEN {
            let take = (SNIFF_LEN - head.len()).min(chunk.len());
            head.extend_from_slice(&chunk[..take]);
        }
        hasher.update(&chunk);
        out.write_all(&chunk).await?;
    }
    out.flush().await?;
    out.sync_data().await?;
    Ok(ReceivedFile {
        temp,
        sha256: hex::encode(hasher.finalize()),
        size,
        head,
        filename,
    })
}

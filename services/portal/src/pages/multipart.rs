//! Reading the portal's multipart forms (the merged forms with their
//! materials) without letting a request cost more than a form can need.
//!
//! The CSRF token is checked before anything else is read: every form puts
//! `_csrf` first (browsers send fields in document order), so a request
//! whose first part is not a valid token is refused after one small part,
//! whatever follows. Then the number of parts and the total size are
//! capped, text fields are small, and files go to anonymous temporary files
//! (deleted when closed) instead of memory, from where they are streamed on
//! to the document service.

use std::io::{Seek, SeekFrom};

use actix_multipart::{Field, Multipart, MultipartError};
use futures_util::TryStreamExt;
use tokio::io::AsyncWriteExt;

use super::PageError;
use crate::session::Viewer;

/// Largest file one form may carry (the document service has its own cap).
pub const MAX_FILE_BYTES: u64 = 20 * 1024 * 1024;
/// Most parts (fields and files) one form may carry: the largest merged
/// form has a few dozen.
pub const MAX_PARTS: usize = 200;
/// Largest whole form: a handful of scanned materials.
pub const MAX_TOTAL_BYTES: u64 = 64 * 1024 * 1024;
/// Largest text field (a business scope, an address, a reason).
const MAX_FIELD_BYTES: usize = 64 * 1024;
/// The name of the CSRF field every multipart form sends first.
const CSRF_FIELD: &str = "_csrf";

/// A file posted with a form, held in an anonymous temporary file.
#[derive(Debug)]
pub struct PostedFile {
    /// The form field (`file.<material code>`).
    pub name: String,
    /// The file name the browser gave.
    pub filename: String,
    /// The content; deleted by the system when the last handle closes.
    file: std::fs::File,
    /// Its length in bytes.
    pub len: u64,
}

impl PostedFile {
    /// A handle on the content, positioned at its start, for one upload.
    pub fn reader(&self) -> std::io::Result<tokio::fs::File> {
        let mut file = self.file.try_clone()?;
        file.seek(SeekFrom::Start(0))?;
        Ok(tokio::fs::File::from_std(file))
    }
}

/// A posted multipart form: text fields and files.
#[derive(Debug, Default)]
pub struct Posted {
    /// Text fields in order (the CSRF token already checked and left out).
    pub fields: Vec<(String, String)>,
    /// Files; empty file inputs left out.
    pub files: Vec<PostedFile>,
}

fn unreadable(e: MultipartError) -> PageError {
    PageError::BadRequest(format!("表单内容无法读取：{e}"))
}

fn too_large() -> PageError {
    PageError::Refused(
        413,
        format!(
            "表单总大小超过 {} MB，请分次提交或压缩材料",
            MAX_TOTAL_BYTES / 1024 / 1024
        ),
    )
}

fn spool_failed(e: std::io::Error) -> PageError {
    tracing::error!(error = %e, "could not spool an uploaded file");
    PageError::Unavailable("上传暂存失败，请稍后重试".into())
}

/// Reads a multipart form posted by `viewer`: the CSRF token first, then
/// at most [`MAX_PARTS`] parts and [`MAX_TOTAL_BYTES`] in all, each file at
/// most [`MAX_FILE_BYTES`] (a refusal names the field).
pub async fn read_multipart(viewer: &Viewer, mut form: Multipart) -> Result<Posted, PageError> {
    let mut total = 0u64;
    // The token, before any other byte of the body is read.
    let first = form.try_next().await.map_err(unreadable)?;
    let token = match first {
        Some(mut field) if field.name() == Some(CSRF_FIELD) => {
            let bytes = read_text(&mut field, &mut total, 128).await?;
            Some(String::from_utf8_lossy(&bytes).into_owned())
        }
        _ => None,
    };
    viewer.check_csrf(token.as_deref())?;

    let mut posted = Posted::default();
    let mut parts = 1;
    while let Some(mut field) = form.try_next().await.map_err(unreadable)? {
        parts += 1;
        if parts > MAX_PARTS {
            return Err(PageError::Refused(
                413,
                format!("表单项超过 {MAX_PARTS} 个，无法办理"),
            ));
        }
        let name = field.name().unwrap_or_default().to_owned();
        let filename = field
            .content_disposition()
            .and_then(|d| d.get_filename())
            .map(str::to_owned);
        match filename {
            Some(filename) => {
                let (file, len) = spool(&mut field, &name, &mut total).await?;
                if len > 0 {
                    posted.files.push(PostedFile {
                        name,
                        filename,
                        file,
                        len,
                    });
                }
            }
            None => {
                let bytes = read_text(&mut field, &mut total, MAX_FIELD_BYTES).await?;
                posted
                    .fields
                    .push((name, String::from_utf8_lossy(&bytes).into_owned()));
            }
        }
    }
    Ok(posted)
}

/// A text part, at most `cap` bytes.
async fn read_text(field: &mut Field, total: &mut u64, cap: usize) -> Result<Vec<u8>, PageError> {
    let mut bytes = Vec::new();
    while let Some(chunk) = field.try_next().await.map_err(unreadable)? {
        *total += chunk.len() as u64;
        if *total > MAX_TOTAL_BYTES {
            return Err(too_large());
        }
        if bytes.len() + chunk.len() > cap {
            let name = field.name().unwrap_or_default().to_owned();
            return Err(PageError::Refused(
                413,
                format!("“{name}”的内容过长（最多 {} KB）", cap.div_ceil(1024)),
            ));
        }
        bytes.extend_from_slice(&chunk);
    }
    Ok(bytes)
}

/// A file part written to an anonymous temporary file.
async fn spool(
    field: &mut Field,
    name: &str,
    total: &mut u64,
) -> Result<(std::fs::File, u64), PageError> {
    let file = tokio::task::spawn_blocking(tempfile::tempfile)
        .await
        .map_err(|e| spool_failed(std::io::Error::other(e)))?
        .map_err(spool_failed)?;
    let mut out = tokio::fs::File::from_std(file);
    let mut len = 0u64;
    while let Some(chunk) = field.try_next().await.map_err(unreadable)? {
        len += chunk.len() as u64;
        *total += chunk.len() as u64;
        if len > MAX_FILE_BYTES {
            return Err(PageError::Refused(
                413,
                format!(
                    "“{name}”的文件超过 {} MB，请压缩后重新上传",
                    MAX_FILE_BYTES / 1024 / 1024
                ),
            ));
        }
        if *total > MAX_TOTAL_BYTES {
            return Err(too_large());
        }
        out.write_all(&chunk).await.map_err(spool_failed)?;
    }
    out.flush().await.map_err(spool_failed)?;
    Ok((out.into_std().await, len))
}

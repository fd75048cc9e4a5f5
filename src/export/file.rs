//! The `file` exporter: one OTLP/JSON export request per line, all signals in one file,
//! as the collector's file exporter writes them. The file is opened on first use (so a
//! named pipe does not block startup) and appended to; each batch is flushed once written,
//! and the file is synced on shutdown.

use std::io::Write;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use async_trait::async_trait;

use crate::pipeline::{Batch, ExportError, Exporter, Payload, otlp_json};

pub struct FileExporter {
    id: String,
    path: PathBuf,
    file: Arc<Mutex<Option<std::fs::File>>>,
}

impl FileExporter {
    pub fn new(id: &str, path: PathBuf) -> Self {
        Self {
            id: id.to_string(),
            path,
            file: Arc::new(Mutex::new(None)),
        }
    }
}

fn encode_line(payload: &Payload) -> Result<Vec<u8>, ExportError> {
    let mut line = match payload {
        Payload::Traces(r) => otlp_json::encode(r),
        Payload::Metrics(r) => otlp_json::encode(r),
        Payload::Logs(r) => otlp_json::encode(r),
    }
    .map_err(|e| ExportError::Encode(Box::new(e)))?;
    line.push(b'\n');
    Ok(line)
}

#[async_trait]
impl Exporter for FileExporter {
    fn id(&self) -> &str {
        &self.id
    }

    async fn export(&self, batch: &Batch) -> Result<(), ExportError> {
        let line = encode_line(batch.payload())?;
        let file = self.file.clone();
        let path = self.path.clone();
        tokio::task::spawn_blocking(move || -> Result<(), ExportError> {
            let mut guard = file.lock().map_err(|_| ExportError::Shutdown)?;
            if guard.is_none() {
                let f = std::fs::OpenOptions::new()
                    .create(true)
                    .append(true)
                    .open(&path)?;
                *guard = Some(f);
            }
            if let Some(f) = guard.as_mut() {
                // One write per line keeps lines whole for concurrent readers.
                f.write_all(&line)?;
            }
            Ok(())
        })
        .await
        .map_err(|_| ExportError::Shutdown)?
    }

    async fn shutdown(&self, _deadline: tokio::time::Instant) -> Result<(), ExportError> {
        let file = self.file.clone();
        tokio::task::spawn_blocking(move || -> Result<(), ExportError> {
            let mut guard = file.lock().map_err(|_| ExportError::Shutdown)?;
            if let Some(f) = guard.as_mut() {
                f.flush()?;
                f.sync_all()?;
            }
            Ok(())
        })
        .await
        .map_err(|_| ExportError::Shutdown)?
    }
}

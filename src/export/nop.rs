//! The `nop` exporter: accepts every batch and discards it.

use async_trait::async_trait;

use crate::pipeline::{Batch, ExportError, Exporter};

pub struct NopExporter {
    id: String,
}

impl NopExporter {
    pub fn new(id: &str) -> Self {
        Self { id: id.to_string() }
    }
}

#[async_trait]
impl Exporter for NopExporter {
    fn id(&self) -> &str {
        &self.id
    }

    async fn export(&self, _batch: &Batch) -> Result<(), ExportError> {
        Ok(())
    }
}

//! One chunk of log records as the log SLOs record them (`logs.rs`): each record's event
//! time, cluster and body fields, the live records' bodies read into one buffer that is
//! reused from chunk to chunk.

use opentelemetry_proto::tonic::common::v1::AnyValue;
use opentelemetry_proto::tonic::logs::v1::LogRecord;
use opentelemetry_proto::tonic::resource::v1::Resource;

use super::logs::LOG_CHUNK;
use crate::slo::ottl::{BodyFields, BodyPaths, BodyValue, BodyView, read_into};

/// One record of a chunk.
pub(super) struct Row<'a> {
    pub(super) record: &'a LogRecord,
    pub(super) resource: Option<&'a Resource>,
    pub(super) cluster: &'a str,
    pub(super) time: u64,
    pub(super) body: RowBody<'a>,
}

/// A row's body fields.
pub(super) enum RowBody<'a> {
    /// A live record's body, read when its chunk is: its fields are then the chunk's values
    /// from the index held here.
    Live(Option<&'a AnyValue>, usize),
    /// Fields read back from a capture.
    Captured(BodyFields<'a>),
}

/// One chunk of rows, their bodies read: the live rows' fields in one buffer, reused from
/// chunk to chunk (reading a body allocates nothing when its strings have no escapes).
pub(super) struct Chunk<'a> {
    pub(super) rows: Vec<Row<'a>>,
    pub(super) values: Vec<BodyValue<'a>>,
    /// Values a row: the body paths read.
    pub(super) width: usize,
}

impl<'a> Chunk<'a> {
    /// Takes the next rows of `rows` (at most [`LOG_CHUNK`]) and reads their bodies at
    /// `paths`; false when there are none.
    pub(super) fn fill(
        &mut self,
        rows: &mut impl Iterator<Item = Row<'a>>,
        paths: &BodyPaths,
    ) -> bool {
        self.rows.clear();
        self.values.clear();
        for mut row in rows.by_ref().take(LOG_CHUNK) {
            if let RowBody::Live(body, at) = &mut row.body {
                *at = self.values.len();
                read_into(*body, paths, &mut self.values);
            }
            self.rows.push(row);
        }
        !self.rows.is_empty()
    }

    /// The rows with their body fields.
    pub(super) fn iter(&self) -> impl Iterator<Item = (&Row<'a>, BodyView<'_>)> {
        self.rows.iter().map(|row| {
            let body = match &row.body {
                RowBody::Live(_, at) => BodyView::live(&self.values[*at..*at + self.width]),
                RowBody::Captured(fields) => fields.view(),
            };
            (row, body)
        })
    }
}

//! Tables across the boundary by the Arrow C stream interface (the PyCapsule protocol that
//! Polars, pandas and pyarrow all speak): the buffers are handed over, never copied row by row.

use std::ffi::CStr;

use polars::prelude::{ArrowDataType, ArrowField, CompatLevel, DataFrame, DataType, PlSmallStr, Series};
use polars_arrow::array::{Array, StructArray};
use polars_arrow::ffi::{export_iterator, ArrowArrayStream, ArrowArrayStreamReader};
use pyo3::exceptions::PyTypeError;
use pyo3::prelude::*;
use pyo3::types::PyCapsule;

const STREAM: &CStr = c"arrow_array_stream";

/// A table on its way to Python: any Arrow consumer (`polars.DataFrame(table)`,
/// `pyarrow.table(table)`) takes it through `__arrow_c_stream__`.
#[pyclass(frozen, module = "clv._clv")]
pub struct ArrowTable {
    frame: DataFrame,
}

impl ArrowTable {
    pub fn new(frame: DataFrame) -> Self {
        Self { frame }
    }
}

#[pymethods]
impl ArrowTable {
    /// The table as an Arrow C stream (the PyCapsule interface).
    #[pyo3(signature = (requested_schema=None))]
    fn __arrow_c_stream__<'py>(
        &self,
        py: Python<'py>,
        requested_schema: Option<Bound<'py, PyAny>>,
    ) -> PyResult<Bound<'py, PyCapsule>> {
        let _ = requested_schema; // The table is handed over in its own schema.
        let mut frame = self.frame.clone();
        frame.align_chunks_par();
        let compat = CompatLevel::newest();
        let fields: Vec<ArrowField> = frame.columns().iter().map(|c| c.field().to_arrow(compat)).collect();
        let dtype = ArrowDataType::Struct(fields);
        let batches: Vec<_> = frame
            .iter_chunks(compat, false)
            .map(|batch| {
                let length = batch.len();
                let array: Box<dyn Array> =
                    Box::new(StructArray::new(dtype.clone(), length, batch.into_arrays(), None));
                Ok(array)
            })
            .collect();
        let field = ArrowField::new(PlSmallStr::EMPTY, dtype, false);
        let stream = export_iterator(Box::new(batches.into_iter()), field);
        PyCapsule::new_with_value(py, stream, STREAM)
    }

    fn __len__(&self) -> usize {
        self.frame.height()
    }
}

/// A table from Python: anything with `__arrow_c_stream__` (a Polars DataFrame, a pyarrow Table,
/// pandas ≥ 2.2 with pyarrow), column for column.
pub fn frame_from(table: &Bound<'_, PyAny>) -> PyResult<DataFrame> {
    if !table.hasattr("__arrow_c_stream__")? {
        return Err(PyTypeError::new_err(format!(
            "expected a table (a polars or pandas DataFrame), not {}",
            table.get_type().name()?
        )));
    }
    let capsule = table.call_method0("__arrow_c_stream__")?;
    let capsule = capsule.cast::<PyCapsule>()?;
    let pointer = capsule.pointer_checked(Some(STREAM))?.cast::<ArrowArrayStream>();
    // SAFETY: the capsule holds a valid stream (its name says so) and lives, with the stream,
    // until the end of this function; the capsule's destructor releases the stream afterwards.
    let stream = unsafe { &mut *pointer.as_ptr() };
    let arrow_error = |e: polars::prelude::PolarsError| PyTypeError::new_err(format!("reading the table: {e}"));
    let mut reader = unsafe { ArrowArrayStreamReader::try_new(stream) }.map_err(arrow_error)?;
    let ArrowDataType::Struct(fields) = reader.field().dtype().clone() else {
        return Err(PyTypeError::new_err("the table's Arrow stream is not of records"));
    };
    let mut chunks: Vec<Vec<Box<dyn Array>>> = vec![Vec::new(); fields.len()];
    while let Some(array) = unsafe { reader.next() } {
        let array = array.map_err(arrow_error)?;
        let Some(records) = array.as_any().downcast_ref::<StructArray>() else {
            return Err(PyTypeError::new_err("the table's Arrow stream is not of records"));
        };
        for (chunk, values) in chunks.iter_mut().zip(records.values()) {
            chunk.push(values.clone());
        }
    }
    let columns = fields
        .iter()
        .zip(chunks)
        .map(|(field, arrays)| {
            let series = match arrays.is_empty() {
                true => Series::new_empty(field.name.clone(), &DataType::from_arrow_dtype(&field.dtype)),
                false => Series::try_from((field.name.clone(), arrays)).map_err(arrow_error)?,
            };
            Ok(series.into())
        })
        .collect::<PyResult<Vec<_>>>()?;
    DataFrame::new_infer_height(columns).map_err(arrow_error)
}

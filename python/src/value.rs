//! A small tree of plain values (numbers, text, lists, ordered maps) that
//! becomes Python objects: how the resolved scenario travels to Python as
//! nested dicts, keeping the field order of `crmo-sim check` and infinite
//! values (which JSON could not carry).

use pyo3::prelude::*;
use pyo3::types::{PyDict, PyList};

/// A value for Python.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    /// `None`.
    None,
    /// A bool.
    Bool(bool),
    /// A whole number.
    Int(u64),
    /// A float (`inf` allowed).
    Float(f64),
    /// A str.
    Text(String),
    /// A list.
    List(Vec<Value>),
    /// A dict, in this order.
    Map(Vec<(String, Value)>),
}

impl Value {
    /// A value as the scenario listing shows it: a number when it reads as
    /// one (`inf` included), else the text (a distribution such as
    /// `normal(mean 10, sd 3.3)`).
    pub fn shown(text: &str) -> Value {
        match text.trim().parse::<f64>() {
            Ok(x) => Value::Float(x),
            Err(_) => Value::Text(text.to_string()),
        }
    }

    /// Builds a map from `(key, value)` pairs.
    pub fn map<K: Into<String>>(pairs: impl IntoIterator<Item = (K, Value)>) -> Value {
        Value::Map(pairs.into_iter().map(|(k, v)| (k.into(), v)).collect())
    }

    /// The Python object.
    pub fn to_python<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        Ok(match self {
            Value::None => py.None().into_bound(py),
            Value::Bool(b) => b.into_pyobject(py)?.to_owned().into_any(),
            Value::Int(n) => n.into_pyobject(py)?.into_any(),
            Value::Float(x) => x.into_pyobject(py)?.into_any(),
            Value::Text(s) => s.into_pyobject(py)?.into_any(),
            Value::List(items) => {
                let list = PyList::empty(py);
                for item in items {
                    list.append(item.to_python(py)?)?;
                }
                list.into_any()
            }
            Value::Map(pairs) => {
                let dict = PyDict::new(py);
                for (k, v) in pairs {
                    dict.set_item(k, v.to_python(py)?)?;
                }
                dict.into_any()
            }
        })
    }
}

impl From<f64> for Value {
    fn from(x: f64) -> Self {
        Value::Float(x)
    }
}

impl From<u64> for Value {
    fn from(n: u64) -> Self {
        Value::Int(n)
    }
}

impl From<u32> for Value {
    fn from(n: u32) -> Self {
        Value::Int(n.into())
    }
}

impl From<bool> for Value {
    fn from(b: bool) -> Self {
        Value::Bool(b)
    }
}

impl From<&str> for Value {
    fn from(s: &str) -> Self {
        Value::Text(s.to_string())
    }
}

impl From<String> for Value {
    fn from(s: String) -> Self {
        Value::Text(s)
    }
}

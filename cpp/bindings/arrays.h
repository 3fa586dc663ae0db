// Internal: numpy boundary checks shared by the register_*.cc files. Dtype mismatches raise
// TypeError, shape problems ValueError; non-contiguous inputs are copied once, never converted.
#pragma once

#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>

#include <cstdint>
#include <string>
#include <vector>

namespace pavenet::bindings {

namespace py = pybind11;

inline std::string shape_of(const py::array& a) {
  std::string s = "(";
  for (py::ssize_t i = 0; i < a.ndim(); ++i) {
    s += (i ? ", " : "") + std::to_string(a.shape(i));
  }
  return s + (a.ndim() == 1 ? ",)" : ")");
}

inline py::array as_array(const py::handle& obj, const char* name) {
  if (!py::isinstance<py::array>(obj)) {
    throw py::type_error(std::string(name) + " must be a numpy array, got " +
                         std::string(py::str(py::type::of(obj))));
  }
  return py::reinterpret_borrow<py::array>(obj);
}

// A C-contiguous array of T (copied only if the input is strided), with `ndim` dimensions.
template <class T>
py::array_t<T, py::array::c_style> checked(const py::handle& obj, const char* name,
                                           py::ssize_t ndim, const char* expected) {
  py::array a = as_array(obj, name);
  if (!a.dtype().is(py::dtype::of<T>())) {
    throw py::type_error(std::string(name) + " must have dtype " +
                         std::string(py::str(py::dtype::of<T>())) + ", got " +
                         std::string(py::str(a.dtype())));
  }
  if (a.ndim() != ndim) {
    throw py::value_error(std::string(name) + " must be " + expected + ", got shape " +
                          shape_of(a));
  }
  return py::array_t<T, py::array::c_style>::ensure(a);
}

// Raises ValueError unless a.shape(dim) == want.
inline void expect_dim(const py::array& a, py::ssize_t dim, int64_t want, const char* name,
                       const char* expected) {
  if (a.shape(dim) != want) {
    throw py::value_error(std::string(name) + " must be " + expected + ", got shape " +
                          shape_of(a));
  }
}

template <class T>
py::array_t<T> to_numpy(const std::vector<T>& v, std::vector<py::ssize_t> shape) {
  py::array_t<T> out(shape);
  std::copy(v.begin(), v.end(), out.mutable_data());
  return out;
}

}  // namespace pavenet::bindings

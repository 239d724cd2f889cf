//! Shapes and strided layouts. Views (reshape, transpose, permute, narrow, broadcast) only rewrite the
//! layout; the storage is shared.

use crate::{Error, Result};
use serde::{Deserialize, Serialize};

/// The dimensions of a tensor, outermost first.
#[derive(Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Shape(Vec<usize>);

impl std::fmt::Debug for Shape {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:?}", self.0)
    }
}

impl Shape {
    /// The dimensions as a slice.
    pub fn dims(&self) -> &[usize] {
        &self.0
    }
    /// Number of dimensions.
    pub fn rank(&self) -> usize {
        self.0.len()
    }
    /// Product of the dimensions (1 for a scalar).
    pub fn elem_count(&self) -> usize {
        self.0.iter().product()
    }
    /// Product of the dimensions, or `None` on overflow (for shapes read from files).
    pub fn checked_elem_count(&self) -> Option<usize> {
        self.0.iter().try_fold(1usize, |acc, &d| acc.checked_mul(d))
    }
    /// Row-major strides of a contiguous tensor of this shape.
    pub fn contiguous_strides(&self) -> Vec<usize> {
        let mut strides = vec![1; self.0.len()];
        for i in (0..self.0.len().saturating_sub(1)).rev() {
            strides[i] = strides[i + 1] * self.0[i + 1];
        }
        strides
    }
    /// Resolves a possibly negative axis (`-1` = last) to an index.
    pub fn axis(&self, axis: isize) -> Result<usize> {
        let rank = self.rank() as isize;
        let resolved = if axis < 0 { axis + rank } else { axis };
        if resolved < 0 || resolved >= rank.max(1) {
            return Err(Error::invalid(
                "axis",
                format!("axis {axis} out of range for {self:?}"),
            ));
        }
        Ok(resolved as usize)
    }
    /// The last dimension (1 for a scalar).
    pub fn last_dim(&self) -> usize {
        self.0.last().copied().unwrap_or(1)
    }
    /// NumPy broadcasting of two shapes.
    pub fn broadcast(&self, other: &Shape, op: &'static str) -> Result<Shape> {
        let rank = self.rank().max(other.rank());
        let mut out = vec![0; rank];
        for (i, o) in out.iter_mut().enumerate() {
            let a = dim_from_end(&self.0, rank - 1 - i);
            let b = dim_from_end(&other.0, rank - 1 - i);
            *o = match (a, b) {
                (a, b) if a == b => a,
                (1, b) => b,
                (a, 1) => a,
                _ => {
                    return Err(Error::ShapeMismatch {
                        op,
                        lhs: self.clone(),
                        rhs: other.clone(),
                    })
                }
            };
        }
        Ok(Shape(out))
    }
}

fn dim_from_end(dims: &[usize], from_end: usize) -> usize {
    if from_end < dims.len() {
        dims[dims.len() - 1 - from_end]
    } else {
        1
    }
}

impl From<Vec<usize>> for Shape {
    fn from(v: Vec<usize>) -> Self {
        Shape(v)
    }
}
impl From<&[usize]> for Shape {
    fn from(v: &[usize]) -> Self {
        Shape(v.to_vec())
    }
}
impl<const N: usize> From<[usize; N]> for Shape {
    fn from(v: [usize; N]) -> Self {
        Shape(v.to_vec())
    }
}
impl From<usize> for Shape {
    fn from(v: usize) -> Self {
        Shape(vec![v])
    }
}
impl From<()> for Shape {
    fn from(_: ()) -> Self {
        Shape(vec![])
    }
}

/// Where a tensor's elements live in its storage: shape, strides (in elements) and start offset.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Layout {
    shape: Shape,
    strides: Vec<usize>,
    offset: usize,
}

impl Layout {
    /// A contiguous row-major layout starting at 0.
    pub fn contiguous(shape: impl Into<Shape>) -> Self {
        let shape = shape.into();
        let strides = shape.contiguous_strides();
        Layout {
            shape,
            strides,
            offset: 0,
        }
    }
    /// The shape.
    pub fn shape(&self) -> &Shape {
        &self.shape
    }
    /// The dimensions.
    pub fn dims(&self) -> &[usize] {
        self.shape.dims()
    }
    /// Strides in elements.
    pub fn strides(&self) -> &[usize] {
        &self.strides
    }
    /// Offset of the first element, in elements.
    pub fn offset(&self) -> usize {
        self.offset
    }
    /// Whether elements are row-major with no gaps (offset may be non-zero).
    pub fn is_contiguous(&self) -> bool {
        let mut expected = 1;
        for (&d, &s) in self.shape.dims().iter().zip(&self.strides).rev() {
            if d != 1 && s != expected {
                return false;
            }
            expected *= d;
        }
        true
    }
    /// A view with a new shape; only for contiguous layouts.
    pub fn reshape(&self, shape: Shape) -> Result<Layout> {
        if shape.elem_count() != self.shape.elem_count() {
            return Err(Error::ShapeMismatch {
                op: "reshape",
                lhs: self.shape.clone(),
                rhs: shape,
            });
        }
        if !self.is_contiguous() {
            return Err(Error::invalid(
                "reshape",
                "layout is not contiguous; call contiguous() first",
            ));
        }
        let strides = shape.contiguous_strides();
        Ok(Layout {
            shape,
            strides,
            offset: self.offset,
        })
    }
    /// A view with axes reordered: output axis `i` is input axis `perm[i]`.
    pub fn permute(&self, perm: &[usize]) -> Result<Layout> {
        let rank = self.shape.rank();
        let mut seen = vec![false; rank];
        if perm.len() != rank
            || perm
                .iter()
                .any(|&p| p >= rank || std::mem::replace(&mut seen[p], true))
        {
            return Err(Error::invalid(
                "permute",
                format!("{perm:?} is not a permutation of {rank} axes"),
            ));
        }
        let dims = perm
            .iter()
            .map(|&p| self.shape.dims()[p])
            .collect::<Vec<_>>();
        let strides = perm.iter().map(|&p| self.strides[p]).collect();
        Ok(Layout {
            shape: Shape(dims),
            strides,
            offset: self.offset,
        })
    }
    /// A view with two axes swapped.
    pub fn transpose(&self, a: usize, b: usize) -> Result<Layout> {
        let mut perm: Vec<usize> = (0..self.shape.rank()).collect();
        if a >= perm.len() || b >= perm.len() {
            return Err(Error::invalid(
                "transpose",
                format!("axes {a},{b} out of range"),
            ));
        }
        perm.swap(a, b);
        self.permute(&perm)
    }
    /// A view of `len` entries of `axis` starting at `start`.
    pub fn narrow(&self, axis: usize, start: usize, len: usize) -> Result<Layout> {
        let dim = *self
            .shape
            .dims()
            .get(axis)
            .ok_or_else(|| Error::invalid("narrow", format!("axis {axis} out of range")))?;
        if start.checked_add(len).is_none_or(|end| end > dim) {
            return Err(Error::invalid(
                "narrow",
                format!("{start}+{len} exceeds dim {dim}"),
            ));
        }
        let mut dims = self.shape.dims().to_vec();
        dims[axis] = len;
        Ok(Layout {
            shape: Shape(dims),
            strides: self.strides.clone(),
            offset: self.offset + start * self.strides[axis],
        })
    }
    /// A view broadcast to `shape` (stride 0 on expanded axes).
    pub fn broadcast_as(&self, shape: &Shape) -> Result<Layout> {
        let rank = shape.rank();
        if rank < self.shape.rank() {
            return Err(Error::ShapeMismatch {
                op: "broadcast_as",
                lhs: self.shape.clone(),
                rhs: shape.clone(),
            });
        }
        let lead = rank - self.shape.rank();
        let mut strides = vec![0; rank];
        // Leading (new) axes keep stride 0; each existing axis keeps its stride or broadcasts from 1.
        for (i, stride) in strides.iter_mut().enumerate().skip(lead) {
            let src = self.shape.dims()[i - lead];
            if src == shape.dims()[i] {
                *stride = self.strides[i - lead];
            } else if src != 1 {
                return Err(Error::ShapeMismatch {
                    op: "broadcast_as",
                    lhs: self.shape.clone(),
                    rhs: shape.clone(),
                });
            }
        }
        Ok(Layout {
            shape: shape.clone(),
            strides,
            offset: self.offset,
        })
    }
    /// A layout from parts the caller has checked.
    pub(crate) fn from_parts_unchecked(shape: Shape, strides: Vec<usize>, offset: usize) -> Layout {
        Layout {
            shape,
            strides,
            offset,
        }
    }
    /// Storage index of every element in row-major order (for strided CPU kernels).
    pub fn indices(&self) -> StridedIndex<'_> {
        StridedIndex::new(self)
    }
    /// Calls `row(start)` with the storage index of the first element of every innermost row, in row-major
    /// order; a row has `last_dim()` elements `last_stride()` apart. Gathers by whole rows cost a fraction of
    /// walking [`Self::indices`] element by element.
    pub fn for_each_row(&self, mut row: impl FnMut(usize)) {
        let dims = self.shape.dims();
        if self.shape.elem_count() == 0 {
            return;
        }
        let outer = dims.len().saturating_sub(1);
        let mut counters = vec![0usize; outer];
        let mut idx = self.offset;
        loop {
            row(idx);
            let mut axis = outer;
            loop {
                if axis == 0 {
                    return;
                }
                axis -= 1;
                counters[axis] += 1;
                idx += self.strides[axis];
                if counters[axis] < dims[axis] {
                    break;
                }
                idx -= self.strides[axis] * dims[axis];
                counters[axis] = 0;
            }
        }
    }
    /// Length of the innermost rows (1 for a scalar).
    pub fn last_dim(&self) -> usize {
        self.shape.dims().last().copied().unwrap_or(1)
    }
    /// Storage distance between neighbours in an innermost row.
    pub fn last_stride(&self) -> usize {
        self.strides.last().copied().unwrap_or(1)
    }
    /// The elements of `data` in row-major order of this layout, gathered row by row.
    pub fn gather<T: Copy>(&self, data: &[T]) -> Vec<T> {
        let (n, stride) = (self.last_dim(), self.last_stride());
        let mut out = Vec::with_capacity(self.shape.elem_count());
        self.for_each_row(|start| {
            if stride == 1 {
                out.extend_from_slice(&data[start..start + n]);
            } else {
                out.extend((0..n).map(|j| data[start + j * stride]));
            }
        });
        out
    }
}

/// Iterator over storage indices of a layout in row-major element order.
pub struct StridedIndex<'a> {
    layout: &'a Layout,
    counters: Vec<usize>,
    next: Option<usize>,
}

impl<'a> StridedIndex<'a> {
    fn new(layout: &'a Layout) -> Self {
        let empty = layout.shape.elem_count() == 0;
        StridedIndex {
            layout,
            counters: vec![0; layout.shape.rank()],
            next: if empty { None } else { Some(layout.offset) },
        }
    }
}

impl Iterator for StridedIndex<'_> {
    type Item = usize;
    fn next(&mut self) -> Option<usize> {
        let current = self.next?;
        let dims = self.layout.shape.dims();
        let mut idx = current;
        let mut axis = dims.len();
        loop {
            if axis == 0 {
                self.next = None;
                break;
            }
            axis -= 1;
            self.counters[axis] += 1;
            idx += self.layout.strides[axis];
            if self.counters[axis] < dims[axis] {
                self.next = Some(idx);
                break;
            }
            idx -= self.layout.strides[axis] * dims[axis];
            self.counters[axis] = 0;
        }
        Some(current)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn transpose_indices_walk_columns() {
        let l = Layout::contiguous([2, 3]).transpose(0, 1).unwrap();
        assert_eq!(l.indices().collect::<Vec<_>>(), vec![0, 3, 1, 4, 2, 5]);
        assert!(!l.is_contiguous());
    }

    #[test]
    fn narrow_then_broadcast() {
        let l = Layout::contiguous([4, 3]).narrow(0, 1, 2).unwrap();
        assert_eq!(l.indices().collect::<Vec<_>>(), vec![3, 4, 5, 6, 7, 8]);
        let b = Layout::contiguous([1, 3])
            .broadcast_as(&Shape::from([2, 3]))
            .unwrap();
        assert_eq!(b.indices().collect::<Vec<_>>(), vec![0, 1, 2, 0, 1, 2]);
    }

    #[test]
    fn gather_by_rows_equals_the_element_walk() {
        let data: Vec<u32> = (0..2 * 3 * 4 * 5).collect();
        let base = Layout::contiguous([2, 3, 4, 5]);
        let layouts = [
            base.clone(),
            base.permute(&[0, 2, 1, 3]).unwrap(),
            base.permute(&[3, 1, 0, 2]).unwrap(),
            base.narrow(3, 1, 3).unwrap().narrow(1, 1, 2).unwrap(),
            Layout::contiguous([3, 1, 5])
                .broadcast_as(&Shape::from([2, 3, 4, 5]))
                .unwrap(),
            Layout::contiguous([0, 3]),
            Layout::contiguous(Vec::<usize>::new()),
        ];
        for l in layouts {
            let walk: Vec<u32> = l.indices().map(|i| data[i]).collect();
            assert_eq!(l.gather(&data), walk, "{l:?}");
        }
    }

    #[test]
    fn broadcast_shapes() {
        let a = Shape::from([4, 1, 3]);
        let b = Shape::from([5, 1]);
        assert_eq!(a.broadcast(&b, "t").unwrap().dims(), &[4, 5, 3]);
        assert!(Shape::from([2]).broadcast(&Shape::from([3]), "t").is_err());
    }
}

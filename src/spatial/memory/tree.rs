//! A packed Hilbert R-tree (the layout of flatbush): boxes sorted along a Hilbert curve,
//! grouped sixteen to a node, level upon level, in two flat arrays. Twenty bytes an
//! entry (an f32 box and a u32), where a pointer tree spends forty or more; built in one
//! sort, never changed (changes go to the index's overlay until the next rebuild).

use std::ops::Range;

/// Children per node.
const NODE_SIZE: usize = 16;

pub type Box4 = [f32; 4];

#[derive(Clone, Debug, Default)]
pub struct PackedTree {
    /// Leaves first (sorted), then each level of nodes, the root last.
    boxes: Vec<Box4>,
    /// For a leaf, its value; for a node, the index of its first child in `boxes`.
    indices: Vec<u32>,
    /// Where each level ends in `boxes` (the leaves' level first).
    level_ends: Vec<usize>,
}

/// The Hilbert curve index of (x, y) in a 2^16 by 2^16 grid (x, y below 2^16).
fn hilbert(mut x: u32, mut y: u32) -> u64 {
    let mut d = 0_u64;
    let mut s = 1_u32 << 15;
    while s > 0 {
        let rx = u32::from(x & s > 0);
        let ry = u32::from(y & s > 0);
        d += u64::from(s) * u64::from(s) * u64::from((3 * rx) ^ ry);
        if ry == 0 {
            if rx == 1 {
                x = 0xFFFF - x;
                y = 0xFFFF - y;
            }
            std::mem::swap(&mut x, &mut y);
        }
        s >>= 1;
    }
    d
}

fn union(a: &Box4, b: &Box4) -> Box4 {
    [
        a[0].min(b[0]),
        a[1].min(b[1]),
        a[2].max(b[2]),
        a[3].max(b[3]),
    ]
}

pub fn intersects(a: &Box4, b: &Box4) -> bool {
    a[0] <= b[2] && a[2] >= b[0] && a[1] <= b[3] && a[3] >= b[1]
}

impl PackedTree {
    /// Builds the tree over (box, value) pairs.
    pub fn build(mut items: Vec<(Box4, u32)>) -> Self {
        if items.is_empty() {
            return Self::default();
        }
        let extent = items.iter().fold(items[0].0, |acc, (b, _)| union(&acc, b));
        let (w, h) = (
            f64::from(extent[2] - extent[0]).max(f64::MIN_POSITIVE),
            f64::from(extent[3] - extent[1]).max(f64::MIN_POSITIVE),
        );
        let grid = |v: f32, min: f32, span: f64| -> u32 {
            let t = (f64::from(v) - f64::from(min)) / span;
            #[expect(
                clippy::cast_possible_truncation,
                clippy::cast_sign_loss,
                reason = "t is in [0, 1]"
            )]
            let cell = (t.clamp(0.0, 1.0) * 65535.0) as u32;
            cell
        };
        items.sort_by_cached_key(|(b, _)| {
            let cx = b[0] / 2.0 + b[2] / 2.0;
            let cy = b[1] / 2.0 + b[3] / 2.0;
            hilbert(grid(cx, extent[0], w), grid(cy, extent[1], h))
        });
        let mut level_ends = vec![items.len()];
        let mut n = items.len();
        let mut total = n;
        loop {
            n = n.div_ceil(NODE_SIZE);
            total += n;
            level_ends.push(total);
            if n == 1 {
                break;
            }
        }
        let mut boxes = Vec::with_capacity(total);
        let mut indices = Vec::with_capacity(total);
        for (b, v) in items {
            boxes.push(b);
            indices.push(v);
        }
        let mut start = 0;
        for &end in &level_ends[..level_ends.len() - 1] {
            let mut first = start;
            while first < end {
                let last = (first + NODE_SIZE).min(end);
                let b = boxes[first..last]
                    .iter()
                    .skip(1)
                    .fold(boxes[first], |acc, b| union(&acc, b));
                boxes.push(b);
                indices.push(u32::try_from(first).unwrap_or(u32::MAX));
                first = last;
            }
            start = end;
        }
        Self {
            boxes,
            indices,
            level_ends,
        }
    }

    pub fn len(&self) -> usize {
        self.level_ends.first().copied().unwrap_or(0)
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Bytes held, for the memory report.
    pub fn bytes(&self) -> usize {
        self.boxes.capacity() * std::mem::size_of::<Box4>()
            + self.indices.capacity() * std::mem::size_of::<u32>()
    }

    pub fn root(&self) -> Option<usize> {
        self.boxes.len().checked_sub(1)
    }

    pub fn is_leaf(&self, node: usize) -> bool {
        node < self.len()
    }

    pub fn bounds(&self, node: usize) -> &Box4 {
        &self.boxes[node]
    }

    /// A leaf's value.
    pub fn value(&self, leaf: usize) -> u32 {
        self.indices[leaf]
    }

    /// A node's children, as indices into the tree.
    pub fn children(&self, node: usize) -> Range<usize> {
        let first = self.indices[node] as usize;
        // the level the children are in ends at the first level end beyond `first`
        let end = self
            .level_ends
            .iter()
            .copied()
            .find(|e| *e > first)
            .unwrap_or(first);
        first..(first + NODE_SIZE).min(end)
    }

    /// Calls `found` with the value of every leaf whose box meets `window`.
    pub fn search(&self, window: &Box4, mut found: impl FnMut(u32)) {
        let Some(root) = self.root() else { return };
        let mut stack = vec![root];
        while let Some(node) = stack.pop() {
            if !intersects(self.bounds(node), window) {
                continue;
            }
            if self.is_leaf(node) {
                found(self.value(node));
            } else {
                stack.extend(self.children(node));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn grid(n: u32) -> Vec<(Box4, u32)> {
        (0..n)
            .map(|i| {
                #[expect(clippy::cast_precision_loss, reason = "small test numbers")]
                let (x, y) = ((i % 100) as f32, (i / 100) as f32);
                ([x, y, x + 0.5, y + 0.5], i)
            })
            .collect()
    }

    #[test]
    fn a_window_finds_exactly_the_boxes_it_meets() {
        for n in [0_u32, 1, 15, 16, 17, 300, 10_000] {
            let items = grid(n);
            let tree = PackedTree::build(items.clone());
            let window = [10.2, 3.7, 20.1, 9.9];
            let mut found = Vec::new();
            tree.search(&window, |v| found.push(v));
            found.sort_unstable();
            let expected: Vec<u32> = items
                .iter()
                .filter(|(b, _)| intersects(b, &window))
                .map(|(_, v)| *v)
                .collect();
            assert_eq!(found, expected, "{n} items");
        }
    }

    #[test]
    fn every_node_holds_its_children() {
        let tree = PackedTree::build(grid(5_000));
        let mut stack = vec![tree.root().unwrap()];
        let mut leaves = 0;
        while let Some(node) = stack.pop() {
            if tree.is_leaf(node) {
                leaves += 1;
                continue;
            }
            for child in tree.children(node) {
                let (p, c) = (tree.bounds(node), tree.bounds(child));
                assert!(p[0] <= c[0] && p[1] <= c[1] && p[2] >= c[2] && p[3] >= c[3]);
                stack.push(child);
            }
        }
        assert_eq!(leaves, 5_000);
    }
}

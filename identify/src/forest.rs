//! Random forest: trees trained by smartcore, stored and evaluated compactly.
//!
//! Each tree is trained as a one-tree smartcore `RandomForestClassifier`
//! (class-stratified bootstrap, `mtry` random candidate features per split,
//! Gini) with seed `seed + i`, so the trees train in parallel and the
//! forest can count votes per class. The trained tree is then read out of
//! smartcore's serde form into [`Tree`]: split feature, threshold, children
//! and leaf class, evaluated with smartcore's rule (`x[f] <= threshold` goes
//! to the "true" child). Stored in binary this takes 3 bytes per leaf and 19
//! per split, about a tenth of smartcore's JSON.

use serde::Deserialize;
use smartcore::ensemble::random_forest_classifier::{
    RandomForestClassifier, RandomForestClassifierParameters,
};
use smartcore::linalg::basic::matrix::DenseMatrix;

use super::codec::{Reader, Writer};
use super::{ForestOptions, IdentifyError, ModelKind, parallel_map};

/// smartcore's tree, wrapped as a one-tree forest; labels are class indices.
pub(crate) type SmartcoreTree = RandomForestClassifier<f64, i32, DenseMatrix<f64>, Vec<i32>>;

/// One node of a [`Tree`].
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Node {
    /// A leaf predicting a class index.
    Leaf {
        /// Class index.
        class: u16,
    },
    /// A split: `x[feature] <= threshold` goes to `yes`, else to `no`.
    Split {
        /// Feature index.
        feature: u16,
        /// Threshold.
        threshold: f64,
        /// Node index taken when `x[feature] <= threshold`.
        yes: u32,
        /// Node index taken otherwise.
        no: u32,
    },
}

/// One decision tree; node 0 is the root.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Tree {
    pub(crate) nodes: Vec<Node>,
}

/// A random forest.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Forest {
    pub(crate) trees: Vec<Tree>,
}

/// The parts of smartcore's serialised one-tree forest that prediction needs.
#[derive(Deserialize)]
struct ForestDump {
    trees: Vec<TreeDump>,
}

#[derive(Deserialize)]
struct TreeDump {
    nodes: Vec<NodeDump>,
    classes: Vec<i32>,
}

#[derive(Deserialize)]
struct NodeDump {
    output: usize,
    split_feature: usize,
    split_value: Option<f64>,
    true_child: Option<usize>,
    false_child: Option<usize>,
}

/// Trains a forest on standardised rows `x` with class indices `y`.
pub(crate) fn train(
    x: &[Vec<f64>],
    y: &[usize],
    k: usize,
    opt: &ForestOptions,
    threads: usize,
) -> Result<Forest, IdentifyError> {
    let invalid = |name, reason: &str| IdentifyError::InvalidOption {
        name,
        reason: reason.to_string(),
    };
    if opt.n_trees == 0 {
        return Err(invalid("forest.n_trees", "must be at least 1"));
    }
    if opt.min_samples_leaf == 0 {
        return Err(invalid("forest.min_samples_leaf", "must be at least 1"));
    }
    let d = x[0].len();
    if opt.features_per_split.is_some_and(|m| m == 0 || m > d) {
        return Err(invalid(
            "forest.features_per_split",
            "must be between 1 and the number of features",
        ));
    }
    if opt.max_depth == Some(0) {
        return Err(invalid("forest.max_depth", "must be at least 1"));
    }
    if k > usize::from(u16::MAX) || d > usize::from(u16::MAX) {
        return Err(invalid(
            "forest",
            "at most 65535 classes and 65535 features are supported",
        ));
    }
    let err = |reason: String| IdentifyError::Training {
        model: ModelKind::RandomForest,
        reason,
    };
    let xm = DenseMatrix::from_2d_vec(&x.to_vec()).map_err(|e| err(e.to_string()))?;
    let yv: Vec<i32> = y
        .iter()
        .map(|c| i32::try_from(*c).map_err(|_| err("class index overflow".into())))
        .collect::<Result<_, _>>()?;
    let mtry = opt
        .features_per_split
        .unwrap_or_else(|| ((d as f64).sqrt().floor() as usize).max(1));
    let fit_tree = |i: &u16| -> Result<Tree, IdentifyError> {
        let mut p = RandomForestClassifierParameters::default()
            .with_n_trees(1)
            .with_m(mtry)
            .with_min_samples_leaf(opt.min_samples_leaf)
            .with_min_samples_split(2 * opt.min_samples_leaf)
            .with_seed(opt.seed.wrapping_add(u64::from(*i)));
        if let Some(depth) = opt.max_depth {
            p = p.with_max_depth(depth);
        }
        let fitted = RandomForestClassifier::fit(&xm, &yv, p).map_err(|e| err(e.to_string()))?;
        Tree::from_smartcore(&fitted, k, d).map_err(err)
    };
    let ids: Vec<u16> = (0..opt.n_trees).collect();
    let trees = parallel_map(&ids, threads, fit_tree)?;
    Ok(Forest { trees })
}

impl Tree {
    /// Reads the trained tree out of a one-tree smartcore forest.
    pub(crate) fn from_smartcore(
        fitted: &SmartcoreTree,
        k: usize,
        d: usize,
    ) -> Result<Self, String> {
        let dump: ForestDump = serde_json::to_value(fitted)
            .and_then(serde_json::from_value)
            .map_err(|e| format!("cannot read the trained tree: {e}"))?;
        let [tree] = <[TreeDump; 1]>::try_from(dump.trees)
            .map_err(|t| format!("expected one tree, found {}", t.len()))?;
        let n = tree.nodes.len();
        let mut nodes = Vec::with_capacity(n);
        for node in &tree.nodes {
            let converted = match (node.true_child, node.false_child, node.split_value) {
                (None, _, _) => {
                    let class = tree
                        .classes
                        .get(node.output)
                        .and_then(|c| usize::try_from(*c).ok())
                        .filter(|c| *c < k)
                        .and_then(|c| u16::try_from(c).ok())
                        .ok_or("a leaf predicts an unknown class")?;
                    Node::Leaf { class }
                }
                (Some(yes), Some(no), Some(threshold))
                    if yes < n && no < n && node.split_feature < d =>
                {
                    Node::Split {
                        feature: u16::try_from(node.split_feature).map_err(|e| e.to_string())?,
                        threshold,
                        yes: u32::try_from(yes).map_err(|e| e.to_string())?,
                        no: u32::try_from(no).map_err(|e| e.to_string())?,
                    }
                }
                _ => return Err("a split node is incomplete".into()),
            };
            nodes.push(converted);
        }
        let tree = Self { nodes };
        tree.check(k, d)?;
        Ok(tree)
    }

    /// Class index predicted for standardised row `x`.
    pub(crate) fn predict(&self, x: &[f64]) -> usize {
        let mut i = 0usize;
        // `check` guarantees valid indices and that children come after
        // their parent, so this walk ends at a leaf.
        loop {
            match &self.nodes[i] {
                Node::Leaf { class } => return usize::from(*class),
                Node::Split {
                    feature,
                    threshold,
                    yes,
                    no,
                } => {
                    i = if x[usize::from(*feature)] <= *threshold {
                        *yes as usize
                    } else {
                        *no as usize
                    };
                }
            }
        }
    }

    /// Checks that classes, features and children are in range and that
    /// every child comes after its parent (no cycles).
    fn check(&self, k: usize, d: usize) -> Result<(), String> {
        if self.nodes.is_empty() {
            return Err("a tree has no nodes".into());
        }
        let n = self.nodes.len();
        for (i, node) in self.nodes.iter().enumerate() {
            match node {
                Node::Leaf { class } => {
                    if usize::from(*class) >= k {
                        return Err(format!("leaf class {class} out of range"));
                    }
                }
                Node::Split {
                    feature,
                    threshold,
                    yes,
                    no,
                } => {
                    let children_ok = [*yes, *no]
                        .iter()
                        .all(|c| (*c as usize) > i && (*c as usize) < n);
                    if usize::from(*feature) >= d || threshold.is_nan() || !children_ok {
                        return Err(format!("split node {i} is malformed"));
                    }
                }
            }
        }
        Ok(())
    }
}

impl Forest {
    /// Share of trees voting for each of `k` classes.
    pub(crate) fn vote_shares(&self, x: &[f64], k: usize) -> Vec<f64> {
        let mut votes = vec![0u32; k];
        for tree in &self.trees {
            votes[tree.predict(x)] += 1;
        }
        let n = self.trees.len().max(1) as f64;
        votes.iter().map(|v| f64::from(*v) / n).collect()
    }

    /// Appends the binary form.
    pub(crate) fn encode(&self, w: &mut Writer) {
        w.len(self.trees.len());
        for tree in &self.trees {
            w.len(tree.nodes.len());
            for node in &tree.nodes {
                match node {
                    Node::Leaf { class } => {
                        w.u8(0);
                        w.u16(*class);
                    }
                    Node::Split {
                        feature,
                        threshold,
                        yes,
                        no,
                    } => {
                        w.u8(1);
                        w.u16(*feature);
                        w.f64(*threshold);
                        w.u32(*yes);
                        w.u32(*no);
                    }
                }
            }
        }
    }

    /// Reads the binary form and checks it against `k` classes and `d`
    /// features.
    pub(crate) fn decode(r: &mut Reader<'_>, k: usize, d: usize) -> Result<Self, String> {
        let n_trees = r.len("tree count", 4)?;
        if n_trees == 0 {
            return Err("random forest without trees".into());
        }
        let mut trees = Vec::with_capacity(n_trees);
        for _ in 0..n_trees {
            let n = r.len("node count", 3)?;
            let mut nodes = Vec::with_capacity(n);
            for _ in 0..n {
                let node = match r.u8("node tag")? {
                    0 => Node::Leaf {
                        class: r.u16("leaf class")?,
                    },
                    1 => Node::Split {
                        feature: r.u16("split feature")?,
                        threshold: r.f64("threshold")?,
                        yes: r.u32("child")?,
                        no: r.u32("child")?,
                    },
                    t => return Err(format!("unknown node tag {t}")),
                };
                nodes.push(node);
            }
            let tree = Tree { nodes };
            tree.check(k, d)?;
            trees.push(tree);
        }
        Ok(Self { trees })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn compact_tree_predicts_like_smartcore() {
        // Four classes on a noisy 3-feature grid.
        let mut x = Vec::new();
        let mut y = Vec::new();
        for i in 0..200usize {
            let a = (i * 37 % 101) as f64 / 10.0;
            let b = (i * 53 % 89) as f64 / 9.0;
            let c = (i * 17 % 13) as f64;
            x.push(vec![a, b, c]);
            y.push(i32::from(a > 5.0) * 2 + i32::from(b + 0.1 * c > 5.0));
        }
        let xm = DenseMatrix::from_2d_vec(&x).unwrap();
        for seed in 0..5u64 {
            let p = RandomForestClassifierParameters::default()
                .with_n_trees(1)
                .with_m(2)
                .with_seed(seed);
            let fitted: SmartcoreTree = RandomForestClassifier::fit(&xm, &y, p).unwrap();
            let tree = Tree::from_smartcore(&fitted, 4, 3).unwrap();
            let expected = fitted.predict(&xm).unwrap();
            for (row, want) in x.iter().zip(&expected) {
                assert_eq!(tree.predict(row), *want as usize);
            }
            // Unseen points, including ones exactly on thresholds.
            let probes: Vec<Vec<f64>> = tree
                .nodes
                .iter()
                .filter_map(|n| match n {
                    Node::Split {
                        feature, threshold, ..
                    } => {
                        let mut v = vec![5.0, 5.0, 6.0];
                        v[usize::from(*feature)] = *threshold;
                        Some(v)
                    }
                    Node::Leaf { .. } => None,
                })
                .collect();
            let pm = DenseMatrix::from_2d_vec(&probes).unwrap();
            let expected = fitted.predict(&pm).unwrap();
            for (row, want) in probes.iter().zip(&expected) {
                assert_eq!(tree.predict(row), *want as usize);
            }
        }
    }

    #[test]
    fn malformed_trees_are_rejected() {
        let cyclic = Tree {
            nodes: vec![Node::Split {
                feature: 0,
                threshold: 0.5,
                yes: 0,
                no: 0,
            }],
        };
        assert!(cyclic.check(2, 1).is_err());
        let bad_class = Tree {
            nodes: vec![Node::Leaf { class: 2 }],
        };
        assert!(bad_class.check(2, 1).is_err());
    }
}

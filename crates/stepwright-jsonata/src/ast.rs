//! The processed syntax tree (jsonata-js's AST after `processAST`).

use serde_json::Value;

use crate::signature::Signature;

/// A filter or index stage on a path step.
#[derive(Debug)]
pub(crate) enum Stage {
    Filter(Box<Node>),
    Index(String),
}

/// A sort term of `^( ... )`.
#[derive(Debug)]
pub(crate) struct SortTerm {
    pub descending: bool,
    pub expr: Node,
}

/// The operators of binary expressions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum BinOp {
    Add,
    Sub,
    Mul,
    Div,
    Mod,
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
    Concat,
    Range,
    In,
    And,
    Or,
}

impl BinOp {
    pub fn from_str(s: &str) -> Option<BinOp> {
        Some(match s {
            "+" => BinOp::Add,
            "-" => BinOp::Sub,
            "*" => BinOp::Mul,
            "/" => BinOp::Div,
            "%" => BinOp::Mod,
            "=" => BinOp::Eq,
            "!=" => BinOp::Ne,
            "<" => BinOp::Lt,
            "<=" => BinOp::Le,
            ">" => BinOp::Gt,
            ">=" => BinOp::Ge,
            "&" => BinOp::Concat,
            ".." => BinOp::Range,
            "in" => BinOp::In,
            "and" => BinOp::And,
            "or" => BinOp::Or,
            _ => return None,
        })
    }
    pub fn as_str(self) -> &'static str {
        match self {
            BinOp::Add => "+",
            BinOp::Sub => "-",
            BinOp::Mul => "*",
            BinOp::Div => "/",
            BinOp::Mod => "%",
            BinOp::Eq => "=",
            BinOp::Ne => "!=",
            BinOp::Lt => "<",
            BinOp::Le => "<=",
            BinOp::Gt => ">",
            BinOp::Ge => ">=",
            BinOp::Concat => "&",
            BinOp::Range => "..",
            BinOp::In => "in",
            BinOp::And => "and",
            BinOp::Or => "or",
        }
    }
}

/// Node kinds.
#[derive(Debug)]
pub(crate) enum Kind {
    Path(Vec<Node>),
    Binary(BinOp, Box<Node>, Box<Node>),
    Neg(Box<Node>),
    Array(Vec<Node>),
    Object(Vec<(Node, Node)>),
    Name(String),
    Literal(Value),
    Wildcard,
    Descendant,
    Parent(usize),
    Condition(Box<Node>, Box<Node>, Option<Box<Node>>),
    /// `a ?? b`
    Coalesce(Box<Node>, Box<Node>),
    /// `a ?: b`
    Elvis(Box<Node>, Box<Node>),
    Block(Vec<Node>),
    Bind(String, Box<Node>),
    Regex(crate::regex::Re),
    Function {
        procedure: Box<Node>,
        args: Vec<Node>,
    },
    Partial {
        procedure: Box<Node>,
        args: Vec<Node>,
    },
    Placeholder,
    Variable(String),
    Lambda {
        params: Vec<String>,
        signature: Option<Signature>,
        body: Box<Node>,
        thunk: bool,
    },
    Apply(Box<Node>, Box<Node>),
    Transform {
        pattern: Box<Node>,
        update: Box<Node>,
        delete: Option<Box<Node>>,
    },
    Sort(Vec<SortTerm>),
}

/// A grouping object constructor on a step: the key/value pairs and its position.
pub(crate) type Group = (Vec<(Node, Node)>, usize);

/// A node with jsonata-js's step annotations.
#[derive(Debug)]
pub(crate) struct Node {
    pub kind: Kind,
    pub position: usize,
    pub keep_array: bool,
    pub keep_singleton_array: bool,
    pub consarray: bool,
    pub predicate: Vec<Stage>,
    pub stages: Vec<Stage>,
    pub group: Option<Box<Group>>,
    pub focus: Option<String>,
    pub index: Option<String>,
    pub tuple: bool,
    pub ancestor: Option<usize>,
    pub seeking_parent: Vec<usize>,
}

impl Node {
    pub fn new(kind: Kind, position: usize) -> Node {
        Node {
            kind,
            position,
            keep_array: false,
            keep_singleton_array: false,
            consarray: false,
            predicate: Vec::new(),
            stages: Vec::new(),
            group: None,
            focus: None,
            index: None,
            tuple: false,
            ancestor: None,
            seeking_parent: Vec::new(),
        }
    }
    pub fn lambda_params(&self) -> &[String] {
        match &self.kind {
            Kind::Lambda { params, .. } => params,
            _ => &[],
        }
    }
    pub fn lambda_signature(&self) -> Option<&Signature> {
        match &self.kind {
            Kind::Lambda { signature, .. } => signature.as_ref(),
            _ => None,
        }
    }
    pub fn type_name(&self) -> &'static str {
        match &self.kind {
            Kind::Path(_) => "path",
            Kind::Binary(..) => "binary",
            Kind::Neg(_) | Kind::Array(_) | Kind::Object(_) => "unary",
            Kind::Name(_) => "name",
            Kind::Literal(Value::String(_)) => "string",
            Kind::Literal(Value::Number(_)) => "number",
            Kind::Literal(_) => "value",
            Kind::Wildcard => "wildcard",
            Kind::Descendant => "descendant",
            Kind::Parent(_) => "parent",
            Kind::Condition(..) | Kind::Coalesce(..) | Kind::Elvis(..) => "condition",
            Kind::Block(_) => "block",
            Kind::Bind(..) => "bind",
            Kind::Regex(_) => "regex",
            Kind::Function { .. } => "function",
            Kind::Partial { .. } => "partial",
            Kind::Placeholder => "operator",
            Kind::Variable(_) => "variable",
            Kind::Lambda { .. } => "lambda",
            Kind::Apply(..) => "apply",
            Kind::Transform { .. } => "transform",
            Kind::Sort(_) => "sort",
        }
    }
}

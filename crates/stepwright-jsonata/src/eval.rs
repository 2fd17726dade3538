//! The tree-walking evaluator, ported from jsonata-js's jsonata.js.

use std::cell::{Cell, RefCell};
use std::collections::HashMap;
use std::rc::Rc;
use std::time::Instant;

use serde_json::Value;

use crate::ast::{BinOp, Kind, Node, SortTerm, Stage};
use crate::error::{Err, ErrExt, R};
use crate::functions;
use crate::value::{
    deep_equal, to_bool, Env, Frame, Func, Obj, PArg, Val, CONS, KEEP, OUTER, SEQ, TUPLES,
};

pub(crate) type Res<'a> = R<Option<Val<'a>>>;

/// Per-evaluation state.
pub(crate) struct Ev<'a> {
    pub labels: &'a [String],
    pub bindings: &'a HashMap<String, Value>,
    pub depth: Cell<usize>,
    pub max_depth: Option<usize>,
    pub deadline: Option<Instant>,
    pub ticks: Cell<u32>,
    pub stack_base: usize,
    pub stack_limit: usize,
    pub now_ms: i64,
    pub rng: Cell<u64>,
    pub frames: RefCell<Vec<Env<'a>>>,
    /// Binding subtrees already converted in this evaluation (by address).
    pub converted: RefCell<HashMap<*const Value, Val<'a>>>,
}

pub(crate) fn stack_addr() -> usize {
    let x = 0u8;
    std::hint::black_box(&x) as *const u8 as usize
}

fn is_numeric(v: &Val) -> bool {
    matches!(v, Val::Num(n) if !n.is_nan())
}

/// jsonata-js's `isNumeric` check on an operand: non-finite numbers are out of range.
fn check_finite(v: &Val) -> R<()> {
    match v {
        Val::Num(n) if n.is_infinite() => Err(Err::new("D1001").val(crate::value::num_to_json(*n))),
        _ => Ok(()),
    }
}

fn json_of(v: Option<&Val>) -> Value {
    v.and_then(|v| v.to_json()).unwrap_or(Value::Null)
}

/// `fn.append`.
pub(crate) fn append<'a>(a: Option<Val<'a>>, b: Option<Val<'a>>) -> Option<Val<'a>> {
    match (a, b) {
        (None, b) => b,
        (a, None) => a,
        (Some(a), Some(b)) => {
            let mut v = a.items();
            match b {
                Val::Arr(items, _) => v.extend(items.iter().cloned()),
                b => v.push(b),
            }
            Some(Val::arr(v))
        }
    }
}

impl<'a> Ev<'a> {
    pub fn new_frame(&self, parent: &Env<'a>) -> Env<'a> {
        let f = Frame::child(parent);
        self.frames.borrow_mut().push(f.clone());
        f
    }

    /// Converts a subtree of a binding once per evaluation.
    fn convert(&self, json: &'a Value) -> Val<'a> {
        let key = json as *const Value;
        if let Some(v) = self.converted.borrow().get(&key) {
            return v.clone();
        }
        let v = Val::from_json(json);
        self.converted.borrow_mut().insert(key, v.clone());
        v
    }

    /// Breaks reference cycles (closures bound in the frames they capture).
    pub fn clear_frames(&self) {
        for f in self.frames.borrow_mut().drain(..) {
            f.vars.borrow_mut().clear();
        }
    }

    pub fn lookup(&self, env: &Env<'a>, name: &str) -> Option<Val<'a>> {
        if let Some(v) = env.lookup(name) {
            return v;
        }
        if let Some(j) = self.bindings.get(name) {
            let v = self.convert(j);
            // cache in the root frame
            let mut root = env.clone();
            while let Some(p) = root.parent.clone() {
                root = p;
            }
            root.bind(name, Some(v.clone()));
            return Some(v);
        }
        functions::lookup(name).map(|b| Val::Func(Rc::new(Func::Builtin(b))))
    }

    fn enter(&self, node: &Node) -> R<()> {
        let d = self.depth.get() + 1;
        self.depth.set(d);
        if let Some(max) = self.max_depth {
            if d > max {
                return Err(Err::new("U1001").pos(node.position).extra(
                    "Stack overflow error: Check for non-terminating recursive function.  Consider rewriting as tail-recursive.",
                ));
            }
        }
        let used = self.stack_base.abs_diff(stack_addr());
        if used > self.stack_limit {
            return Err(Err::new("U1001").pos(node.position).extra(
                "Stack overflow error: Check for non-terminating recursive function.  Consider rewriting as tail-recursive.",
            ));
        }
        if let Some(deadline) = self.deadline {
            let t = self.ticks.get().wrapping_add(1);
            self.ticks.set(t);
            if t % 32 == 0 && Instant::now() > deadline {
                return Err(Err::new("U1001")
                    .pos(node.position)
                    .extra("Expression evaluation timeout: Check for infinite loop"));
            }
        }
        Ok(())
    }

    pub fn eval(&self, node: &'a Node, input: Option<&Val<'a>>, env: &Env<'a>) -> Res<'a> {
        if let Err(e) = self.enter(node) {
            self.depth.set(self.depth.get() - 1);
            return Err(e);
        }
        let r = self.eval_inner(node, input, env);
        self.depth.set(self.depth.get() - 1);
        if let Ok(Some(v)) = &r {
            if v.depth() > crate::value::MAX_VALUE_DEPTH {
                return Err(Err::new("U1001")
                    .pos(node.position)
                    .extra("The result is nested too deeply"));
            }
        }
        r
    }

    fn eval_inner(&self, node: &'a Node, input: Option<&Val<'a>>, env: &Env<'a>) -> Res<'a> {
        let mut result = match &node.kind {
            Kind::Path(steps) => self.eval_path(node, steps, input, env)?,
            Kind::Binary(op, l, r) => self.eval_binary(node, *op, l, r, input, env)?,
            Kind::Neg(e) => match self.eval(e, input, env)? {
                None => None,
                Some(Val::Num(n)) => Some(Val::Num(-n)),
                Some(v) => {
                    return Err(Err::new("D1002")
                        .pos(node.position)
                        .tok("-")
                        .val(json_of(Some(&v))))
                }
            },
            Kind::Array(items) => {
                let mut out: Vec<Val<'a>> = Vec::new();
                for item in items {
                    if let Some(v) = self.eval(item, input, env)? {
                        if matches!(item.kind, Kind::Array(_)) {
                            out.push(v);
                        } else {
                            match v {
                                Val::Arr(a, _) => out.extend(a.iter().cloned()),
                                v => out.push(v),
                            }
                        }
                    }
                }
                Some(Val::mk_arr(out, if node.consarray { CONS } else { 0 }))
            }
            Kind::Object(pairs) => Some(self.eval_group(pairs, node.position, input, env)?),
            Kind::Name(n) => lookup_field(input, n),
            Kind::Literal(v) => Some(match v {
                Value::String(s) => Val::str(s),
                Value::Number(n) => Val::Num(n.as_f64().unwrap_or(0.0)),
                Value::Bool(b) => Val::Bool(*b),
                _ => Val::Null,
            }),
            Kind::Wildcard => Some(wildcard(input)),
            Kind::Descendant => descendants(input),
            Kind::Parent(slot) => self.lookup(env, &self.labels[*slot]),
            Kind::Condition(c, t, e) => {
                let cond = self.eval(c, input, env)?;
                if to_bool(cond.as_ref()).unwrap_or(false) {
                    self.eval(t, input, env)?
                } else if let Some(e) = e {
                    self.eval(e, input, env)?
                } else {
                    None
                }
            }
            Kind::Coalesce(l, r) => match self.eval(l, input, env)? {
                Some(v) => Some(v),
                None => self.eval(r, input, env)?,
            },
            Kind::Elvis(l, r) => {
                let v = self.eval(l, input, env)?;
                if to_bool(v.as_ref()).unwrap_or(false) {
                    v
                } else {
                    self.eval(r, input, env)?
                }
            }
            Kind::Block(exprs) => {
                let frame = self.new_frame(env);
                let mut r = None;
                for e in exprs {
                    r = self.eval(e, input, &frame)?;
                }
                r
            }
            Kind::Bind(name, rhs) => {
                let v = self.eval(rhs, input, env)?;
                env.bind(name, v.clone());
                v
            }
            Kind::Regex(re) => Some(Val::Func(Rc::new(Func::Regex(re)))),
            Kind::Function { procedure, args } => {
                self.eval_function(node, procedure, args, input, env, None)?
            }
            Kind::Partial { procedure, args } => {
                self.eval_partial(node, procedure, args, input, env)?
            }
            Kind::Placeholder => None,
            Kind::Variable(name) => {
                if name.is_empty() {
                    match input {
                        Some(Val::Arr(a, f)) if f & OUTER != 0 => a.first().cloned(),
                        i => i.cloned(),
                    }
                } else {
                    self.lookup(env, name)
                }
            }
            Kind::Lambda { .. } => Some(Val::Func(Rc::new(Func::Lambda {
                node,
                env: env.clone(),
                input: input.cloned(),
            }))),
            Kind::Apply(l, r) => self.eval_apply(node, l, r, input, env)?,
            Kind::Transform { .. } => Some(Val::Func(Rc::new(Func::Transform {
                node,
                env: env.clone(),
            }))),
            Kind::Sort(terms) => {
                let items = input.cloned().map(|v| match v {
                    a @ Val::Arr(..) => a,
                    v => Val::seq(vec![v]),
                });
                match items {
                    Some(a) => Some(self.eval_sort(node, terms, a, env)?),
                    None => None,
                }
            }
        };
        for stage in &node.predicate {
            if let Stage::Filter(p) = stage {
                result = self.filter(p, result, env)?;
            }
        }
        if !matches!(node.kind, Kind::Path(_)) {
            if let Some(g) = &node.group {
                result = Some(self.eval_group(&g.0, g.1, result.as_ref(), env)?);
            }
        }
        if let Some(Val::Arr(a, f)) = &result {
            if f & SEQ != 0 && f & TUPLES == 0 {
                let f = if node.keep_array { f | KEEP } else { *f };
                if a.is_empty() {
                    result = None;
                } else if a.len() == 1 && f & KEEP == 0 {
                    result = Some(a[0].clone());
                } else {
                    result = Some(Val::Arr(a.clone(), f));
                }
            }
        }
        Ok(result)
    }

    // ------------------------------------------------------------------ paths

    fn eval_path(
        &self,
        node: &'a Node,
        steps: &'a [Node],
        input: Option<&Val<'a>>,
        env: &Env<'a>,
    ) -> Res<'a> {
        // `None` here is jsonata-js's `[undefined]`: one undefined item
        let mut input_seq: Option<Val<'a>> = match input {
            Some(v @ Val::Arr(..)) if !matches!(steps[0].kind, Kind::Variable(_)) => {
                Some(v.clone())
            }
            Some(v) => Some(Val::seq(vec![v.clone()])),
            None => None,
        };
        let mut result_seq: Option<Val<'a>> = None;
        let mut is_tuple = false;
        let mut tuples: Option<Vec<Val<'a>>> = None;
        let last = steps.len() - 1;
        let mut first = 0;
        if node.group.is_none() && !node.keep_singleton_array && !node.tuple {
            if let Some((consumed, reached)) = self.binding_prefix(steps, env) {
                let Some(json) = reached else {
                    return Ok(Some(Val::seq(vec![])));
                };
                let v = self.convert(json);
                result_seq = Some(match v {
                    a @ Val::Arr(..) if consumed - 1 == last => a,
                    Val::Arr(items, _) => Val::seq(items.as_ref().clone()),
                    v => Val::seq(vec![v]),
                });
                if consumed - 1 == last {
                    return Ok(result_seq);
                }
                input_seq = result_seq.clone();
                first = consumed;
            }
        }
        for (ii, step) in steps.iter().enumerate().skip(first) {
            if step.tuple {
                is_tuple = true;
            }
            if ii == 0 && step.consarray {
                result_seq = self.eval(step, input_seq.as_ref(), env)?;
            } else if is_tuple {
                tuples =
                    Some(self.eval_tuple_step(step, input_seq.as_ref(), tuples.take(), env)?);
            } else {
                result_seq = Some(self.eval_step(step, input_seq.as_ref(), env, ii == last)?);
            }
            if !is_tuple {
                match &result_seq {
                    None => break,
                    Some(Val::Arr(a, _)) if a.is_empty() => break,
                    _ => {}
                }
            }
            if step.focus.is_none() {
                input_seq = result_seq.clone();
            }
        }
        let mut tuple_stream = None;
        if is_tuple {
            let t = tuples.unwrap_or_default();
            let stream = Val::mk_arr(t.clone(), SEQ | TUPLES);
            tuple_stream = Some(stream.clone());
            if node.tuple {
                result_seq = Some(stream);
            } else {
                let items = t
                    .iter()
                    .filter_map(|t| match t {
                        Val::Obj(o, _) => o.get("@").cloned(),
                        _ => None,
                    })
                    .collect();
                result_seq = Some(Val::seq(items));
            }
        }
        if node.keep_singleton_array {
            if let Some(Val::Arr(a, f)) = &result_seq {
                if f & CONS != 0 && f & SEQ == 0 {
                    result_seq = Some(Val::seq(vec![Val::Arr(a.clone(), *f)]));
                }
            }
            result_seq = result_seq.map(|r| r.add_flags(KEEP));
        }
        if let Some(g) = &node.group {
            let group_input = if is_tuple { tuple_stream } else { result_seq };
            result_seq = Some(self.eval_group(&g.0, g.1, group_input.as_ref(), env)?);
        }
        Ok(result_seq)
    }

    /// When the whole expression is a path into a bound variable's JSON through plain field
    /// steps (`$states.input.detail`), its result is that JSON subtree itself: `Some(reached)`.
    pub fn direct_binding(&self, node: &'a Node, env: &Env<'a>) -> Option<Option<&'a Value>> {
        let Kind::Path(steps) = &node.kind else {
            return None;
        };
        if node.group.is_some()
            || node.keep_singleton_array
            || node.tuple
            || node.keep_array
            || !node.predicate.is_empty()
        {
            return None;
        }
        match self.binding_prefix(steps, env)? {
            (_, None) => Some(None),
            (consumed, reached) if consumed == steps.len() => Some(reached),
            _ => None,
        }
    }

    /// The common Step Functions path `$states.input.a.b...`: walks a bound variable's JSON
    /// directly through plain field steps, so only the subtree reached is converted (not the
    /// whole binding). Returns the steps consumed (at least two) and the JSON reached (`None`
    /// when a field is missing).
    fn binding_prefix(
        &self,
        steps: &'a [Node],
        env: &Env<'a>,
    ) -> Option<(usize, Option<&'a Value>)> {
        let plain = |s: &Node| {
            s.stages.is_empty()
                && s.predicate.is_empty()
                && s.group.is_none()
                && s.focus.is_none()
                && s.index.is_none()
                && !s.tuple
                && s.ancestor.is_none()
                && !s.keep_array
                && !s.consarray
        };
        let Kind::Variable(name) = &steps[0].kind else {
            return None;
        };
        if name.is_empty() || !plain(&steps[0]) || steps.len() < 2 || env.lookup(name).is_some() {
            return None;
        }
        let mut cur = self.bindings.get(name.as_str())?;
        if !cur.is_object() {
            return None;
        }
        let mut k = 1;
        while k < steps.len() {
            let step = &steps[k];
            let Kind::Name(field) = &step.kind else { break };
            if !plain(step) {
                break;
            }
            let Value::Object(o) = cur else { break };
            match o.get(field.as_str()) {
                Some(child) => cur = child,
                None => return Some((k + 1, None)),
            }
            k += 1;
        }
        if k < 2 {
            return None;
        }
        Some((k, Some(cur)))
    }

    fn eval_step(
        &self,
        step: &'a Node,
        input: Option<&Val<'a>>,
        env: &Env<'a>,
        last: bool,
    ) -> R<Val<'a>> {
        if let Kind::Sort(terms) = &step.kind {
            let input = input.cloned().unwrap_or_else(|| Val::seq(vec![]));
            let mut r = self.eval_sort(step, terms, input, env)?;
            if !step.stages.is_empty() {
                r = self.eval_stages(&step.stages, r, env)?;
            }
            return Ok(r);
        }
        let items: Vec<Option<Val<'a>>> = match input {
            Some(Val::Arr(a, _)) => a.iter().cloned().map(Some).collect(),
            Some(v) => vec![Some(v.clone())],
            None => vec![None],
        };
        let mut result = Vec::with_capacity(items.len());
        for item in &items {
            let mut res = self.eval(step, item.as_ref(), env)?;
            for stage in &step.stages {
                if let Stage::Filter(p) = stage {
                    res = self.filter(p, res, env)?;
                }
            }
            if let Some(r) = res {
                result.push(r);
            }
        }
        if last && result.len() == 1 && result[0].is_array() && !result[0].is_seq() {
            return Ok(result.pop().unwrap_or(Val::Null));
        }
        let mut out = Vec::with_capacity(result.len());
        for r in result {
            match r {
                Val::Arr(a, f) if f & CONS == 0 => out.extend(a.iter().cloned()),
                v => out.push(v),
            }
        }
        Ok(Val::seq(out))
    }

    fn frame_from_tuple(&self, env: &Env<'a>, tuple: &Val<'a>) -> Env<'a> {
        let frame = self.new_frame(env);
        if let Val::Obj(o, _) = tuple {
            for (k, v) in o.iter() {
                if k != "@" {
                    frame.bind(k, Some(v.clone()));
                }
            }
        }
        frame
    }

    fn eval_stages(&self, stages: &'a [Stage], input: Val<'a>, env: &Env<'a>) -> R<Val<'a>> {
        let mut result = input;
        for stage in stages {
            match stage {
                Stage::Filter(p) => {
                    result = self
                        .filter(p, Some(result), env)?
                        .unwrap_or_else(|| Val::seq(vec![]));
                }
                Stage::Index(var) => {
                    let f = result.flags();
                    let items: Vec<Val<'a>> = result
                        .items()
                        .into_iter()
                        .enumerate()
                        .map(|(i, t)| match t {
                            Val::Obj(o, _) => {
                                let mut o = o.as_ref().clone();
                                o.insert(var.clone(), Val::Num(i as f64));
                                Val::obj(o)
                            }
                            t => t,
                        })
                        .collect();
                    result = Val::mk_arr(items, f);
                }
            }
        }
        Ok(result)
    }

    fn eval_tuple_step(
        &self,
        step: &'a Node,
        input: Option<&Val<'a>>,
        tuples: Option<Vec<Val<'a>>>,
        env: &Env<'a>,
    ) -> R<Vec<Val<'a>>> {
        if let Kind::Sort(terms) = &step.kind {
            let mut result = if let Some(tb) = tuples {
                self.eval_sort(step, terms, Val::mk_arr(tb, SEQ | TUPLES), env)?
                    .add_flags(TUPLES)
            } else {
                let inp = input.cloned().unwrap_or_else(|| Val::seq(vec![]));
                let sorted = self.eval_sort(step, terms, inp, env)?;
                let items = sorted
                    .items()
                    .into_iter()
                    .enumerate()
                    .map(|(i, v)| {
                        let mut o = Obj::new();
                        o.insert("@".into(), v);
                        if let Some(ix) = &step.index {
                            o.insert(ix.clone(), Val::Num(i as f64));
                        }
                        Val::obj(o)
                    })
                    .collect();
                Val::mk_arr(items, SEQ | TUPLES)
            };
            if !step.stages.is_empty() {
                result = self.eval_stages(&step.stages, result, env)?;
            }
            return Ok(result.items());
        }
        let tb = match tuples {
            Some(t) => t,
            None => match input {
                Some(i) => i
                    .items()
                    .into_iter()
                    .map(|item| {
                        let mut o = Obj::new();
                        o.insert("@".into(), item);
                        Val::obj(o)
                    })
                    .collect(),
                None => vec![Val::obj(Obj::new())],
            },
        };
        let mut result = Vec::new();
        for tuple in &tb {
            let Val::Obj(tobj, _) = tuple else { continue };
            let step_env = self.frame_from_tuple(env, tuple);
            let at = tobj.get("@").cloned();
            let res = self.eval(step, at.as_ref(), &step_env)?;
            let Some(res) = res else { continue };
            let (items, is_ts) = match &res {
                Val::Arr(a, f) => (a.as_ref().clone(), f & TUPLES != 0),
                v => (vec![v.clone()], false),
            };
            for (bb, r) in items.into_iter().enumerate() {
                let mut t = tobj.as_ref().clone();
                if is_ts {
                    if let Val::Obj(ro, _) = &r {
                        for (k, v) in ro.iter() {
                            t.insert(k.clone(), v.clone());
                        }
                    }
                } else {
                    if let Some(f) = &step.focus {
                        t.insert(f.clone(), r);
                        if let Some(a) = &at {
                            t.insert("@".into(), a.clone());
                        }
                    } else {
                        t.insert("@".into(), r);
                    }
                    if let Some(ix) = &step.index {
                        t.insert(ix.clone(), Val::Num(bb as f64));
                    }
                    if let Some(anc) = step.ancestor {
                        if let Some(a) = &at {
                            t.insert(self.labels[anc].clone(), a.clone());
                        }
                    }
                }
                result.push(Val::obj(t));
            }
        }
        let mut result = Val::mk_arr(result, SEQ | TUPLES);
        if !step.stages.is_empty() {
            result = self.eval_stages(&step.stages, result, env)?;
        }
        Ok(result.items())
    }

    pub(crate) fn filter(&self, pred: &'a Node, input: Option<Val<'a>>, env: &Env<'a>) -> Res<'a> {
        let ts = input.as_ref().is_some_and(|i| i.flags() & TUPLES != 0);
        let flags = if ts { SEQ | TUPLES } else { SEQ };
        let items: Vec<Val<'a>> = match input {
            Some(Val::Arr(a, _)) => a.as_ref().clone(),
            Some(v) => vec![v],
            None => {
                // `[undefined]`: the predicate still runs once (its errors surface)
                if !matches!(pred.kind, Kind::Literal(_)) {
                    self.eval(pred, None, env)?;
                }
                vec![]
            }
        };
        let mut results = Vec::new();
        if let Kind::Literal(Value::Number(n)) = &pred.kind {
            let n = n.as_f64().unwrap_or(0.0).floor();
            let idx = if n < 0.0 { items.len() as f64 + n } else { n };
            if idx >= 0.0 {
                if let Some(item) = items.get(idx as usize) {
                    if item.is_array() {
                        return Ok(Some(item.clone()));
                    }
                    results.push(item.clone());
                }
            }
            return Ok(Some(Val::mk_arr(results, flags)));
        }
        let len = items.len() as f64;
        for (index, item) in items.iter().enumerate() {
            let (ctx, e) = if ts {
                let at = match item {
                    Val::Obj(o, _) => o.get("@").cloned(),
                    _ => None,
                };
                (at, self.frame_from_tuple(env, item))
            } else {
                (Some(item.clone()), env.clone())
            };
            let res = self.eval(pred, ctx.as_ref(), &e)?;
            let nums: Option<Vec<f64>> = match &res {
                Some(Val::Num(n)) => Some(vec![*n]),
                Some(Val::Arr(a, _)) if a.iter().all(|x| matches!(x, Val::Num(_))) => {
                    Some(a.iter().filter_map(|x| x.as_num()).collect())
                }
                _ => None,
            };
            if let Some(nums) = nums {
                for n in nums {
                    let mut ii = n.floor();
                    if ii < 0.0 {
                        ii += len;
                    }
                    if ii == index as f64 {
                        results.push(item.clone());
                    }
                }
            } else if to_bool(res.as_ref()).unwrap_or(false) {
                results.push(item.clone());
            }
        }
        Ok(Some(Val::mk_arr(results, flags)))
    }

    // ------------------------------------------------------------ constructors

    fn eval_group(
        &self,
        pairs: &'a [(Node, Node)],
        position: usize,
        input: Option<&Val<'a>>,
        env: &Env<'a>,
    ) -> R<Val<'a>> {
        let reduce = input.is_some_and(|i| i.flags() & TUPLES != 0);
        if !matches!(input, Some(Val::Arr(..))) {
            // one context item (the usual object constructor): no grouping needed
            let mut keys: Vec<(String, usize)> = Vec::with_capacity(pairs.len());
            for (pi, (k, _)) in pairs.iter().enumerate() {
                match self.eval(k, input, env)? {
                    None => {}
                    Some(Val::Str(s)) => {
                        if keys.iter().any(|(x, _)| x.as_str() == &*s) {
                            return Err(Err::new("D1009")
                                .pos(position)
                                .val(Value::String(s.to_string())));
                        }
                        keys.push((s.to_string(), pi));
                    }
                    Some(v) => {
                        return Err(Err::new("T1003").pos(position).val(json_of(Some(&v))));
                    }
                }
            }
            let mut result = Obj::with_capacity(keys.len());
            for (key, pi) in keys {
                if let Some(v) = self.eval(&pairs[pi].1, input, env)? {
                    result.insert(key, v);
                }
            }
            return Ok(Val::obj(result));
        }
        let mut items: Vec<Option<Val<'a>>> = match input {
            Some(Val::Arr(a, _)) => a.iter().cloned().map(Some).collect(),
            Some(v) => vec![Some(v.clone())],
            None => vec![],
        };
        if items.is_empty() {
            items.push(None);
        }
        let mut groups: indexmap::IndexMap<String, (Option<Val<'a>>, usize)> =
            indexmap::IndexMap::new();
        for item in &items {
            let (ctx, e) = if reduce {
                let at = match item {
                    Some(Val::Obj(o, _)) => o.get("@").cloned(),
                    _ => None,
                };
                (
                    at,
                    self.frame_from_tuple(env, item.as_ref().unwrap_or(&Val::Null)),
                )
            } else {
                (item.clone(), env.clone())
            };
            for (pi, (k, _)) in pairs.iter().enumerate() {
                let key = self.eval(k, ctx.as_ref(), &e)?;
                match key {
                    None => {}
                    Some(Val::Str(s)) => {
                        let s = s.to_string();
                        if let Some(g) = groups.get_mut(&s) {
                            if g.1 != pi {
                                return Err(Err::new("D1009").pos(position).val(Value::String(s)));
                            }
                            g.0 = append(g.0.take(), item.clone());
                        } else {
                            groups.insert(s, (item.clone(), pi));
                        }
                    }
                    Some(v) => {
                        return Err(Err::new("T1003").pos(position).val(json_of(Some(&v))));
                    }
                }
            }
        }
        let mut result = Obj::new();
        for (key, (data, pi)) in groups {
            let (ctx, e) = if reduce {
                let tuple = reduce_tuple_stream(data);
                let mut t = match tuple {
                    Some(Val::Obj(o, _)) => o.as_ref().clone(),
                    _ => Obj::new(),
                };
                let at = t.shift_remove("@");
                (at, self.frame_from_tuple(env, &Val::obj(t)))
            } else {
                (data, env.clone())
            };
            if let Some(v) = self.eval(&pairs[pi].1, ctx.as_ref(), &e)? {
                result.insert(key, v);
            }
        }
        Ok(Val::obj(result))
    }

    // ---------------------------------------------------------------- sorting

    fn eval_sort(
        &self,
        node: &'a Node,
        terms: &'a [SortTerm],
        input: Val<'a>,
        env: &Env<'a>,
    ) -> R<Val<'a>> {
        let is_tuple = input.flags() & TUPLES != 0;
        let items = input.items();
        if items.len() <= 1 {
            return Ok(input);
        }
        let cmp = |a: &Val<'a>, b: &Val<'a>| -> R<bool> {
            let mut comp = 0i32;
            for term in terms {
                if comp != 0 {
                    break;
                }
                let ev = |x: &Val<'a>| -> Res<'a> {
                    if is_tuple {
                        let at = match x {
                            Val::Obj(o, _) => o.get("@").cloned(),
                            _ => None,
                        };
                        let e = self.frame_from_tuple(env, x);
                        self.eval(&term.expr, at.as_ref(), &e)
                    } else {
                        self.eval(&term.expr, Some(x), env)
                    }
                };
                let aa = ev(a)?;
                let bb = ev(b)?;
                match (&aa, &bb) {
                    (None, None) => {
                        comp = 0;
                        continue;
                    }
                    (None, _) => {
                        comp = 1;
                        continue;
                    }
                    (_, None) => {
                        comp = -1;
                        continue;
                    }
                    _ => {}
                }
                let (Some(x), Some(y)) = (aa, bb) else {
                    continue;
                };
                let ok = |v: &Val| matches!(v, Val::Num(_) | Val::Str(_));
                if !ok(&x) || !ok(&y) {
                    let bad = if !ok(&x) { &x } else { &y };
                    return Err(Err::new("T2008").pos(node.position).val(json_of(Some(bad))));
                }
                comp = match (&x, &y) {
                    (Val::Num(p), Val::Num(q)) => {
                        if p == q {
                            0
                        } else if p < q {
                            -1
                        } else {
                            1
                        }
                    }
                    (Val::Str(p), Val::Str(q)) => js_str_cmp(p, q),
                    _ => {
                        return Err(Err::new("T2007")
                            .pos(node.position)
                            .val(json_of(Some(&x)))
                            .val2(json_of(Some(&y))))
                    }
                };
                if term.descending {
                    comp = -comp;
                }
            }
            Ok(comp == 1)
        };
        let sorted = merge_sort(items, &cmp)?;
        Ok(Val::arr(sorted))
    }

    // -------------------------------------------------------------- operators

    fn eval_binary(
        &self,
        node: &'a Node,
        op: BinOp,
        l: &'a Node,
        r: &'a Node,
        input: Option<&Val<'a>>,
        env: &Env<'a>,
    ) -> Res<'a> {
        let lhs = self.eval(l, input, env)?;
        let decorate = |e: Box<Err>| e.pos(node.position).tok(op.as_str());
        match op {
            BinOp::And => {
                let lb = to_bool(lhs.as_ref()).unwrap_or(false);
                if !lb {
                    return Ok(Some(Val::Bool(false)));
                }
                let rhs = self.eval(r, input, env)?;
                return Ok(Some(Val::Bool(to_bool(rhs.as_ref()).unwrap_or(false))));
            }
            BinOp::Or => {
                let lb = to_bool(lhs.as_ref()).unwrap_or(false);
                if lb {
                    return Ok(Some(Val::Bool(true)));
                }
                let rhs = self.eval(r, input, env)?;
                return Ok(Some(Val::Bool(to_bool(rhs.as_ref()).unwrap_or(false))));
            }
            _ => {}
        }
        let rhs = self.eval(r, input, env)?;
        binary_op(op, lhs, rhs).map_err(decorate)
    }

    // -------------------------------------------------------------- functions

    fn eval_function(
        &self,
        node: &'a Node,
        procedure: &'a Node,
        args: &'a [Node],
        input: Option<&Val<'a>>,
        env: &Env<'a>,
        applyto: Option<Option<Val<'a>>>,
    ) -> Res<'a> {
        let proc = self.eval(procedure, input, env)?;
        let proc_name = proc_name(procedure);
        if proc.is_none() {
            if let Kind::Path(steps) = &procedure.kind {
                if let Kind::Name(n) = &steps[0].kind {
                    if self.lookup(env, n).is_some() {
                        return Err(Err::new("T1005").pos(node.position).tok(n.clone()));
                    }
                }
            }
        }
        let mut eargs = Vec::with_capacity(args.len() + 1);
        if let Some(a) = applyto {
            eargs.push(a);
        }
        for a in args {
            eargs.push(self.eval(a, input, env)?);
        }
        self.apply(proc.as_ref(), eargs, input, env)
            .map_err(|mut e| {
                if e.position.is_none() {
                    e.position = Some(node.position);
                }
                if e.token.is_none() {
                    e.token = Some(proc_name.clone());
                }
                e
            })
    }

    fn eval_partial(
        &self,
        node: &'a Node,
        procedure: &'a Node,
        args: &'a [Node],
        input: Option<&Val<'a>>,
        env: &Env<'a>,
    ) -> Res<'a> {
        let mut pargs = Vec::new();
        for a in args {
            if matches!(a.kind, Kind::Placeholder) {
                pargs.push(PArg::Hole);
            } else {
                pargs.push(PArg::Arg(self.eval(a, input, env)?));
            }
        }
        let proc = self.eval(procedure, input, env)?;
        match proc {
            Some(f @ Val::Func(_)) => Ok(Some(Val::Func(Rc::new(Func::Partial {
                func: f,
                args: pargs,
            })))),
            _ => {
                if let Kind::Path(steps) = &procedure.kind {
                    if let Kind::Name(n) = &steps[0].kind {
                        if self.lookup(env, n).is_some() {
                            return Err(Err::new("T1007").pos(node.position).tok(n.clone()));
                        }
                    }
                }
                Err(Err::new("T1008")
                    .pos(node.position)
                    .tok(proc_name(procedure)))
            }
        }
    }

    fn eval_apply(
        &self,
        node: &'a Node,
        l: &'a Node,
        r: &'a Node,
        input: Option<&Val<'a>>,
        env: &Env<'a>,
    ) -> Res<'a> {
        if let Kind::Function { procedure, args } = &r.kind {
            let lhs = self.eval(l, input, env)?;
            return self.eval_function(r, procedure, args, input, env, Some(lhs));
        }
        let lhs = self.eval(l, input, env)?;
        let func = self.eval(r, input, env)?;
        let Some(func @ Val::Func(_)) = func else {
            return Err(Err::new("T2006")
                .pos(node.position)
                .val(json_of(func.as_ref())));
        };
        if let Some(lf @ Val::Func(_)) = lhs {
            return Ok(Some(Val::Func(Rc::new(Func::Chain(lf, func)))));
        }
        self.apply(Some(&func), vec![lhs], None, env)
    }

    /// Applies a function value to arguments (with tail-call trampolining).
    pub fn apply(
        &self,
        proc: Option<&Val<'a>>,
        args: Vec<Option<Val<'a>>>,
        input: Option<&Val<'a>>,
        env: &Env<'a>,
    ) -> Res<'a> {
        let mut result = self.apply_inner(proc, args, input, env)?;
        while let Some(Val::Func(f)) = &result {
            let Func::Lambda {
                node,
                env: lenv,
                input: linput,
            } = f.as_ref()
            else {
                break;
            };
            let Kind::Lambda {
                body, thunk: true, ..
            } = &node.kind
            else {
                break;
            };
            let Kind::Function { procedure, args } = &body.kind else {
                break;
            };
            let next = self.eval(procedure, linput.as_ref(), lenv)?;
            let mut eargs = Vec::with_capacity(args.len());
            for a in args {
                eargs.push(self.eval(a, linput.as_ref(), lenv)?);
            }
            let name = proc_name(procedure);
            let pos = body.position;
            result = self
                .apply_inner(next.as_ref(), eargs, input, env)
                .map_err(|mut e| {
                    if e.position.is_none() {
                        e.position = Some(pos);
                    }
                    if e.token.is_none() {
                        e.token = Some(name.clone());
                    }
                    e
                })?;
        }
        Ok(result)
    }

    fn apply_inner(
        &self,
        proc: Option<&Val<'a>>,
        args: Vec<Option<Val<'a>>>,
        input: Option<&Val<'a>>,
        env: &Env<'a>,
    ) -> Res<'a> {
        let Some(Val::Func(f)) = proc else {
            return Err(Err::new("T1006"));
        };
        let args = match f.signature() {
            Some(sig) => sig.validate(args, input)?,
            None => args,
        };
        match f.as_ref() {
            Func::Lambda {
                node,
                env: lenv,
                input: linput,
            } => {
                let Kind::Lambda { params, body, .. } = &node.kind else {
                    return Ok(None);
                };
                let frame = self.new_frame(lenv);
                for (i, p) in params.iter().enumerate() {
                    frame.bind(p, args.get(i).cloned().flatten());
                }
                self.eval(body, linput.as_ref(), &frame)
            }
            Func::Builtin(b) => (b.f)(self, &args, input, env),
            Func::Partial { func, args: pargs } => {
                let mut supplied = args.into_iter();
                let full: Vec<Option<Val<'a>>> = pargs
                    .iter()
                    .map(|p| match p {
                        PArg::Hole => supplied.next().flatten(),
                        PArg::Arg(v) => v.clone(),
                    })
                    .collect();
                self.apply(Some(func), full, None, env)
            }
            Func::Regex(re) => {
                let s = match args.first() {
                    Some(Some(Val::Str(s))) => s.clone(),
                    _ => return Ok(None),
                };
                Ok(functions::regex_match_obj(re, &s, 0))
            }
            Func::Transform { node, env: tenv } => self.transform(node, args, tenv),
            Func::Chain(first, second) => {
                let mid = self.apply(Some(first), args, None, env)?;
                self.apply(Some(second), vec![mid], None, env)
            }
        }
    }

    fn transform(&self, node: &'a Node, args: Vec<Option<Val<'a>>>, env: &Env<'a>) -> Res<'a> {
        let Kind::Transform {
            pattern,
            update,
            delete,
        } = &node.kind
        else {
            return Ok(None);
        };
        let Some(obj) = args.into_iter().next().flatten() else {
            return Ok(None);
        };
        let clone = self.lookup(env, "clone");
        let Some(clone @ Val::Func(_)) = clone else {
            return Err(Err::new("T2013").pos(node.position));
        };
        let result = self.apply(Some(&clone), vec![Some(obj)], None, env)?;
        let Some(result) = result else {
            return Ok(None);
        };
        let matches = self.eval(pattern, Some(&result), env)?;
        let Some(matches) = matches else {
            return Ok(Some(result));
        };
        let matches = matches.items();
        let mut edits: Edits<'a> = HashMap::new();
        for m in &matches {
            let upd = self.eval(update, Some(m), env)?;
            let upd = match upd {
                None => None,
                Some(Val::Obj(o, _)) => Some(o),
                Some(v) => {
                    return Err(Err::new("T2011")
                        .pos(update.position)
                        .val(json_of(Some(&v))))
                }
            };
            let mut dels = Vec::new();
            if let Some(d) = delete {
                if let Some(dv) = self.eval(d, Some(m), env)? {
                    let all_str = dv.items().iter().all(|x| matches!(x, Val::Str(_)));
                    if !all_str {
                        return Err(Err::new("T2012").pos(d.position).val(json_of(Some(&dv))));
                    }
                    dels = dv
                        .items()
                        .iter()
                        .filter_map(|x| x.as_str().map(|s| s.to_string()))
                        .collect();
                }
            }
            if let Val::Obj(o, _) = m {
                edits.entry(Rc::as_ptr(o)).or_default().push((upd, dels));
            }
        }
        Ok(Some(rebuild(&result, &edits)))
    }
}

type Edits<'a> = HashMap<*const Obj<'a>, Vec<(Option<Rc<Obj<'a>>>, Vec<String>)>>;

fn rebuild<'a>(v: &Val<'a>, edits: &Edits<'a>) -> Val<'a> {
    match v {
        Val::Obj(o, _) => {
            let mut n: Obj<'a> = o
                .iter()
                .map(|(k, x)| (k.clone(), rebuild(x, edits)))
                .collect();
            if let Some(es) = edits.get(&Rc::as_ptr(o)) {
                for (upd, dels) in es {
                    if let Some(u) = upd {
                        for (k, x) in u.iter() {
                            n.insert(k.clone(), x.clone());
                        }
                    }
                    for d in dels {
                        n.shift_remove(d);
                    }
                }
            }
            Val::obj(n)
        }
        Val::Arr(a, f) => Val::mk_arr(a.iter().map(|x| rebuild(x, edits)).collect(), *f),
        v => v.clone(),
    }
}

fn proc_name(procedure: &Node) -> String {
    match &procedure.kind {
        Kind::Path(steps) => match &steps[0].kind {
            Kind::Name(n) => n.clone(),
            _ => String::new(),
        },
        Kind::Variable(v) => v.clone(),
        _ => String::new(),
    }
}

fn reduce_tuple_stream<'a>(data: Option<Val<'a>>) -> Option<Val<'a>> {
    match data {
        Some(Val::Arr(a, _)) => {
            let mut result: Obj<'a> = match a.first() {
                Some(Val::Obj(o, _)) => o.as_ref().clone(),
                _ => Obj::new(),
            };
            for t in a.iter().skip(1) {
                if let Val::Obj(o, _) = t {
                    for (k, v) in o.iter() {
                        let prev = result.shift_remove(k);
                        if let Some(x) = append(prev, Some(v.clone())) {
                            result.insert(k.clone(), x);
                        }
                    }
                }
            }
            Some(Val::obj(result))
        }
        d => d,
    }
}

/// JS string comparison (UTF-16 code unit order).
pub(crate) fn js_str_cmp(a: &str, b: &str) -> i32 {
    let mut x = a.encode_utf16();
    let mut y = b.encode_utf16();
    loop {
        match (x.next(), y.next()) {
            (None, None) => return 0,
            (None, _) => return -1,
            (_, None) => return 1,
            (Some(p), Some(q)) => {
                if p != q {
                    return if p < q { -1 } else { 1 };
                }
            }
        }
    }
}

/// jsonata-js's stable merge sort; `swap(a, b)` is true when `a` must come after `b`.
pub(crate) fn merge_sort<'a>(
    items: Vec<Val<'a>>,
    swap: &dyn Fn(&Val<'a>, &Val<'a>) -> R<bool>,
) -> R<Vec<Val<'a>>> {
    if items.len() <= 1 {
        return Ok(items);
    }
    let mut items = items;
    let right = items.split_off(items.len() / 2);
    let left = merge_sort(items, swap)?;
    let right = merge_sort(right, swap)?;
    let mut out = Vec::with_capacity(left.len() + right.len());
    let (mut i, mut j) = (0, 0);
    while i < left.len() && j < right.len() {
        if swap(&left[i], &right[j])? {
            out.push(right[j].clone());
            j += 1;
        } else {
            out.push(left[i].clone());
            i += 1;
        }
    }
    out.extend_from_slice(&left[i..]);
    out.extend_from_slice(&right[j..]);
    Ok(out)
}

/// `fn.lookup`: field access, mapping over arrays.
pub(crate) fn lookup_field<'a>(input: Option<&Val<'a>>, key: &str) -> Option<Val<'a>> {
    match input? {
        Val::Arr(a, _) => {
            let mut out = Vec::new();
            for item in a.iter() {
                match lookup_field(Some(item), key) {
                    Some(Val::Arr(x, _)) => out.extend(x.iter().cloned()),
                    Some(v) => out.push(v),
                    None => {}
                }
            }
            Some(Val::seq(out))
        }
        Val::Obj(o, _) => o.get(key).cloned(),
        _ => None,
    }
}

fn flatten_into<'a>(v: &Val<'a>, out: &mut Vec<Val<'a>>) {
    match v {
        Val::Arr(a, _) => {
            for x in a.iter() {
                flatten_into(x, out);
            }
        }
        v => out.push(v.clone()),
    }
}

fn wildcard<'a>(input: Option<&Val<'a>>) -> Val<'a> {
    let mut out = Vec::new();
    let input = match input {
        Some(Val::Arr(a, f)) if f & OUTER != 0 && !a.is_empty() => Some(&a[0]),
        i => i,
    };
    // arrays are objects keyed by index to jsonata-js's wildcard
    let values: Vec<Val<'a>> = match input {
        Some(Val::Obj(o, _)) => o.values().cloned().collect(),
        Some(Val::Arr(a, _)) => a.as_ref().clone(),
        _ => Vec::new(),
    };
    for v in &values {
        match v {
            Val::Arr(..) => flatten_into(v, &mut out),
            v => out.push(v.clone()),
        }
    }
    Val::seq(out)
}

fn descendants<'a>(input: Option<&Val<'a>>) -> Option<Val<'a>> {
    let input = input?;
    let mut out = Vec::new();
    fn rec<'a>(v: &Val<'a>, out: &mut Vec<Val<'a>>) {
        match v {
            Val::Arr(a, _) => {
                for x in a.iter() {
                    rec(x, out);
                }
            }
            Val::Obj(o, _) => {
                out.push(v.clone());
                for x in o.values() {
                    rec(x, out);
                }
            }
            v => out.push(v.clone()),
        }
    }
    rec(input, &mut out);
    if out.len() == 1 {
        out.pop()
    } else {
        Some(Val::seq(out))
    }
}

/// The value operators (everything but `and`/`or`).
pub(crate) fn binary_op<'a>(op: BinOp, lhs: Option<Val<'a>>, rhs: Option<Val<'a>>) -> Res<'a> {
    match op {
        BinOp::Add | BinOp::Sub | BinOp::Mul | BinOp::Div | BinOp::Mod => {
            if let Some(l) = &lhs {
                check_finite(l)?;
                if !is_numeric(l) {
                    return Err(Err::new("T2001").val(json_of(Some(l))));
                }
            }
            if let Some(r) = &rhs {
                check_finite(r)?;
                if !is_numeric(r) {
                    return Err(Err::new("T2002").val(json_of(Some(r))));
                }
            }
            let (Some(Val::Num(a)), Some(Val::Num(b))) = (lhs, rhs) else {
                return Ok(None);
            };
            let r = match op {
                BinOp::Add => a + b,
                BinOp::Sub => a - b,
                BinOp::Mul => a * b,
                BinOp::Div => a / b,
                _ => a % b,
            };
            Ok(Some(Val::Num(r)))
        }
        BinOp::Eq | BinOp::Ne => {
            let (Some(l), Some(r)) = (lhs, rhs) else {
                return Ok(Some(Val::Bool(false)));
            };
            let eq = deep_equal(&l, &r);
            Ok(Some(Val::Bool(if op == BinOp::Eq { eq } else { !eq })))
        }
        BinOp::Lt | BinOp::Le | BinOp::Gt | BinOp::Ge => {
            let comparable =
                |v: &Option<Val>| matches!(v, None | Some(Val::Num(_)) | Some(Val::Str(_)));
            if !comparable(&lhs) || !comparable(&rhs) {
                let bad = if !comparable(&lhs) { &lhs } else { &rhs };
                return Err(Err::new("T2010").val(json_of(bad.as_ref())));
            }
            let (Some(l), Some(r)) = (lhs, rhs) else {
                return Ok(None);
            };
            let c = match (&l, &r) {
                (Val::Num(a), Val::Num(b)) => a.partial_cmp(b),
                (Val::Str(a), Val::Str(b)) => Some(js_str_cmp(a, b).cmp(&0)),
                _ => {
                    return Err(Err::new("T2009")
                        .val(json_of(Some(&l)))
                        .val2(json_of(Some(&r))))
                }
            };
            use std::cmp::Ordering::*;
            let b = match (op, c) {
                (_, None) => false,
                (BinOp::Lt, Some(o)) => o == Less,
                (BinOp::Le, Some(o)) => o != Greater,
                (BinOp::Gt, Some(o)) => o == Greater,
                (_, Some(o)) => o != Less,
            };
            Ok(Some(Val::Bool(b)))
        }
        BinOp::Concat => {
            let ls = match &lhs {
                Some(v) => functions::to_string(v)?,
                None => String::new(),
            };
            let rs = match &rhs {
                Some(v) => functions::to_string(v)?,
                None => String::new(),
            };
            Ok(Some(Val::string(ls + &rs)))
        }
        BinOp::Range => {
            let int = |v: &Option<Val>| match v {
                None => Some(true),
                Some(Val::Num(n)) => Some(n.fract() == 0.0 && n.is_finite()),
                _ => Some(false),
            };
            if int(&lhs) == Some(false) {
                return Err(Err::new("T2003").val(json_of(lhs.as_ref())));
            }
            if int(&rhs) == Some(false) {
                return Err(Err::new("T2004").val(json_of(rhs.as_ref())));
            }
            let (Some(Val::Num(a)), Some(Val::Num(b))) = (lhs, rhs) else {
                return Ok(None);
            };
            if a > b {
                return Ok(None);
            }
            let size = b - a + 1.0;
            if size > 1e7 {
                return Err(Err::new("D2014").val(crate::value::num_to_json(size)));
            }
            let v: Vec<Val> = (0..size as i64).map(|i| Val::Num(a + i as f64)).collect();
            Ok(Some(Val::seq(v)))
        }
        BinOp::In => {
            let (Some(l), Some(r)) = (lhs, rhs) else {
                return Ok(Some(Val::Bool(false)));
            };
            let found = r.items().iter().any(|x| match (x, &l) {
                (Val::Obj(a, _), Val::Obj(b, _)) => Rc::ptr_eq(a, b),
                (Val::Arr(a, _), Val::Arr(b, _)) => Rc::ptr_eq(a, b),
                _ => deep_equal(x, &l),
            });
            Ok(Some(Val::Bool(found)))
        }
        BinOp::And | BinOp::Or => Ok(None),
    }
}

//! Pagination and sort order for list queries.

use serde::Serialize;

/// The largest page a list returns, whatever the caller asks for.
pub const MAX_PER_PAGE: u32 = 100;
/// The page size when the caller names none.
pub const DEFAULT_PER_PAGE: u32 = 20;

/// Which page of a list to read: `page` counts from 1, `per_page` is 1..=[`MAX_PER_PAGE`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Page {
    page: u32,
    per_page: u32,
}

impl Page {
    /// A page, clamped into range (page 0 reads as 1, a size past 100 as 100), so a
    /// hand-edited URL still gets an answer.
    pub fn new(page: u32, per_page: u32) -> Page {
        Page {
            page: page.max(1),
            per_page: per_page.clamp(1, MAX_PER_PAGE),
        }
    }

    /// The page number, from 1.
    pub fn page(&self) -> u32 {
        self.page
    }

    /// Rows per page.
    pub fn per_page(&self) -> u32 {
        self.per_page
    }

    /// `LIMIT`, as bound in SQL.
    pub(crate) fn limit(&self) -> i64 {
        i64::from(self.per_page)
    }

    /// `OFFSET`, as bound in SQL.
    pub(crate) fn offset(&self) -> i64 {
        (i64::from(self.page) - 1) * i64::from(self.per_page)
    }
}

impl Default for Page {
    fn default() -> Self {
        Page::new(1, DEFAULT_PER_PAGE)
    }
}

/// One page of a list and the size of the whole list.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Paged<T> {
    /// The rows on this page.
    pub items: Vec<T>,
    /// Rows in the whole list, across pages.
    pub total: u64,
    /// The page read.
    pub page: u32,
    /// Rows per page.
    pub per_page: u32,
}

impl<T> Paged<T> {
    pub(crate) fn new(items: Vec<T>, total: i64, page: Page) -> Paged<T> {
        Paged {
            items,
            total: u64::try_from(total).unwrap_or(0),
            page: page.page,
            per_page: page.per_page,
        }
    }

    /// Pages in the whole list; 0 for an empty list.
    pub fn total_pages(&self) -> u64 {
        self.total.div_ceil(u64::from(self.per_page.max(1)))
    }

    /// Whether a later page has rows.
    pub fn has_next(&self) -> bool {
        u64::from(self.page) < self.total_pages()
    }

    /// Whether an earlier page exists (and has rows).
    pub fn has_prev(&self) -> bool {
        self.page > 1 && self.total > 0
    }

    /// The same page with its rows converted.
    pub fn map<U>(self, f: impl FnMut(T) -> U) -> Paged<U> {
        Paged {
            items: self.items.into_iter().map(f).collect(),
            total: self.total,
            page: self.page,
            per_page: self.per_page,
        }
    }
}

/// Ascending or descending.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum SortOrder {
    /// Smallest or oldest first.
    Asc,
    /// Largest or newest first (the default: lists open on the newest).
    #[default]
    Desc,
}

impl SortOrder {
    pub(crate) fn sql(self) -> &'static str {
        match self {
            SortOrder::Asc => "ASC",
            SortOrder::Desc => "DESC",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn paged(total: i64, page: u32, per_page: u32) -> Paged<()> {
        Paged::new(Vec::new(), total, Page::new(page, per_page))
    }

    #[test]
    fn out_of_range_pages_are_clamped() {
        let p = Page::new(0, 1000);
        assert_eq!((p.page(), p.per_page()), (1, 100));
        assert_eq!(Page::new(3, 0).per_page(), 1);
        assert_eq!(Page::new(3, 20).offset(), 40);
        assert_eq!(Page::new(3, 20).limit(), 20);
    }

    #[test]
    fn page_counts_round_up() {
        assert_eq!(paged(0, 1, 20).total_pages(), 0);
        assert_eq!(paged(1, 1, 20).total_pages(), 1);
        assert_eq!(paged(20, 1, 20).total_pages(), 1);
        assert_eq!(paged(21, 1, 20).total_pages(), 2);
    }

    #[test]
    fn next_and_prev_follow_the_total() {
        let first = paged(45, 1, 20);
        assert!(first.has_next() && !first.has_prev());
        let last = paged(45, 3, 20);
        assert!(!last.has_next() && last.has_prev());
        let exact = paged(40, 2, 20);
        assert!(!exact.has_next());
        let empty = paged(0, 1, 20);
        assert!(!empty.has_next() && !empty.has_prev());
        let past_end = paged(5, 4, 20);
        assert!(!past_end.has_next() && past_end.has_prev());
    }
}

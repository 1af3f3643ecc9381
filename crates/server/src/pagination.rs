//! `page` / `per_page` / `sort_by` / `sort_order` as API v1 takes them, and the
//! `pagination` object every list answers with.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::error::{ApiError, FieldError};

/// Largest page a client may ask for.
pub const MAX_PER_PAGE: u32 = 100;
/// Page size when the client names none.
pub const DEFAULT_PER_PAGE: u32 = 20;

/// A validated page request (1-based page).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PageRequest {
    /// The page, from 1.
    pub page: u32,
    /// Rows per page, 1..=100.
    pub per_page: u32,
}

impl PageRequest {
    /// Checks raw query values; every bad field is reported at once.
    pub fn parse(page: Option<i64>, per_page: Option<i64>) -> Result<Self, ApiError> {
        let mut problems = Vec::new();
        let page = page.unwrap_or(1);
        if page < 1 || page > i64::from(u32::MAX) {
            problems.push(FieldError {
                field: "page".into(),
                message: format!("{page} is not a page number; pages start at 1"),
            });
        }
        let per_page = per_page.unwrap_or(i64::from(DEFAULT_PER_PAGE));
        if !(1..=i64::from(MAX_PER_PAGE)).contains(&per_page) {
            problems.push(FieldError {
                field: "per_page".into(),
                message: format!("{per_page} is outside 1-{MAX_PER_PAGE}"),
            });
        }
        if !problems.is_empty() {
            return Err(ApiError::validation(problems));
        }
        Ok(PageRequest {
            page: page as u32,
            per_page: per_page as u32,
        })
    }

    /// Rows to skip.
    pub fn offset(self) -> u64 {
        u64::from(self.page - 1) * u64::from(self.per_page)
    }
}

/// Ascending or descending.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum SortOrder {
    /// Smallest first.
    Asc,
    /// Largest (or newest) first.
    #[default]
    Desc,
}

/// The `pagination` object of a list response.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct Pagination {
    /// This page, from 1.
    pub page: u32,
    /// Rows per page.
    pub per_page: u32,
    /// Pages in all (0 when there are no rows).
    pub total_pages: u64,
    /// Rows in all.
    pub total_count: u64,
    /// Whether a later page has rows.
    pub has_next: bool,
    /// Whether an earlier page exists.
    pub has_prev: bool,
}

impl Pagination {
    /// The object for `request` over `total_count` rows.
    pub fn new(request: PageRequest, total_count: u64) -> Self {
        let per_page = u64::from(request.per_page);
        let total_pages = total_count.div_ceil(per_page);
        Pagination {
            page: request.page,
            per_page: request.per_page,
            total_pages,
            total_count,
            has_next: u64::from(request.page) < total_pages,
            has_prev: request.page > 1,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pages_count_and_neighbours() {
        let p = |page, per_page, total| {
            Pagination::new(
                PageRequest::parse(Some(page), Some(per_page)).unwrap(),
                total,
            )
        };
        let first = p(1, 20, 87);
        assert_eq!(
            (first.total_pages, first.has_next, first.has_prev),
            (5, true, false)
        );
        let last = p(5, 20, 87);
        assert_eq!((last.has_next, last.has_prev), (false, true));
        let exact = p(2, 50, 100);
        assert_eq!((exact.total_pages, exact.has_next), (2, false));
        let empty = p(1, 20, 0);
        assert_eq!(
            (empty.total_pages, empty.has_next, empty.has_prev),
            (0, false, false)
        );
        assert_eq!(PageRequest::parse(Some(3), Some(20)).unwrap().offset(), 40);
        assert_eq!(
            PageRequest::parse(None, None).unwrap(),
            PageRequest {
                page: 1,
                per_page: DEFAULT_PER_PAGE
            }
        );
    }

    #[test]
    fn bad_values_name_their_fields() {
        let e = PageRequest::parse(Some(0), Some(101)).unwrap_err();
        let fields: Vec<_> = e.details.iter().map(|d| d.field.as_str()).collect();
        assert_eq!(fields, ["page", "per_page"]);
        assert!(PageRequest::parse(Some(1), Some(0)).is_err());
        assert!(PageRequest::parse(Some(-1), None).is_err());
    }
}

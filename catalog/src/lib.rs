//! Model catalog, device profiles, and plan().

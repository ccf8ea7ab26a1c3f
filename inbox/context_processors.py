def menu_counts(request):
    """The numbers beside "Inbox" and "Queue" in the qms menu on every page. viewflow adds them (the app's
    get_context_data, evidence.viewsets) only to its own views' TemplateResponses, so a page rendered by a plain
    view (the dashboard, the notifications) showed an empty badge. Lazy: nothing is counted unless the menu is
    drawn, and a count the page took of the same list is reused (services.MenuCount)."""
    from . import services

    if not getattr(getattr(request, "user", None), "is_authenticated", False):
        return {}
    return services.menu_counts(request)

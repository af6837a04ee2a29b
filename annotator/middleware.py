"""Cross-cutting htmx behaviour."""

from django.http import HttpRequest, HttpResponse


class HtmxLoginRedirectMiddleware:
    """An htmx request that hits the login redirect (session expired) must load the login page
    as a whole, not swap it into a fragment: turn the 302 into HX-Redirect."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if (
            getattr(request, "htmx", False)
            and response.status_code == 302
            and "/accounts/login/" in response.get("Location", "")
        ):
            location = response["Location"]
            response = HttpResponse(status=204)
            response["HX-Redirect"] = location
        return response

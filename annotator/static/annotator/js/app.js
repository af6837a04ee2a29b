/* Site-wide behaviour that needs no page-specific setup. Kept tiny on purpose. */
(function () {
  "use strict";
  // Messages from the server fade after a while; errors stay until dismissed by navigation.
  document.querySelectorAll("#messages .message:not(.error)").forEach((message) => {
    setTimeout(() => message.classList.add("faded"), 6000);
  });
})();

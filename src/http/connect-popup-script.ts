/**
 * `GET /connect/popup.js`: what an app's web page loads to run Connect in a popup.
 *
 *   <script src="https://alter.example.com/connect/popup.js"></script>
 *   const { connectionId } = await AlterConnect.open(connectUrl);
 *
 * It opens the Connect link (from the app backend's `POST /v1/connect/sessions`) in a popup with
 * `mode=popup` and the page's origin, and resolves with the result that Alter's last page posts
 * back. Messages are accepted only from Alter's origin and from that popup window; Alter posts
 * only to the origin that opened it, which must be in the app's allowlist.
 */
export const POPUP_SCRIPT = `(function (global) {
  'use strict';
  var current = document.currentScript;
  var alterOrigin = current && current.src ? new URL(current.src).origin : null;
  function open(connectUrl, options) {
    options = options || {};
    return new Promise(function (resolve, reject) {
      var url;
      try { url = new URL(connectUrl); } catch (e) { reject(new Error('AlterConnect: not a URL: ' + connectUrl)); return; }
      var origin = alterOrigin || url.origin;
      if (url.origin !== origin) { reject(new Error('AlterConnect: the Connect link is not on ' + origin)); return; }
      url.searchParams.set('mode', 'popup');
      url.searchParams.set('origin', global.location.origin);
      var popup = global.open(url.toString(), options.name || 'alter-connect', 'popup,width=' + (options.width || 520) + ',height=' + (options.height || 680));
      if (!popup) { reject(new Error('AlterConnect: the popup was blocked; call open() from a click handler')); return; }
      var timer;
      function done() { global.removeEventListener('message', onMessage); clearInterval(timer); }
      function onMessage(event) {
        if (event.origin !== origin || event.source !== popup) return;
        var m = event.data;
        if (!m || m.type !== 'alter:connect') return;
        done();
        if (m.status === 'completed') resolve({ connectionId: m.connection_id, provider: m.provider, sessionId: m.session_id });
        else { var err = new Error(m.error_description || m.error); err.code = m.error; reject(err); }
      }
      global.addEventListener('message', onMessage);
      timer = setInterval(function () {
        if (popup.closed) { done(); var err = new Error('AlterConnect: the window was closed before connecting'); err.code = 'closed'; reject(err); }
      }, 500);
    });
  }
  global.AlterConnect = { open: open };
})(window);
`;

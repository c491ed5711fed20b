/* The seed's test client, served by the server: io(origin, { auth: { token } }) and the REST calls. */
(function () {
  'use strict';
  var socket = null;
  var $ = function (id) { return document.getElementById(id); };
  function log(name, payload) {
    var li = document.createElement('li');
    var text = typeof payload === 'string' && payload.indexOf('data:image') === 0 ? '[QR image]' : JSON.stringify(payload);
    li.textContent = new Date().toLocaleTimeString() + ' ' + name + ' ' + text;
    $('events').prepend(li);
  }
  function call(method, path) {
    return fetch(path, { method: method, headers: { authorization: 'Bearer ' + $('token').value.trim() } })
      .then(function (res) {
        return res.json().then(function (body) {
          log(method + ' ' + path + ' -> ' + res.status, body && body.image ? { qr: body.qr } : body);
          return body;
        });
      });
  }
  $('connect').addEventListener('submit', function (e) {
    e.preventDefault();
    if (socket) socket.close();
    socket = io(window.location.origin, { auth: { token: $('token').value.trim() } });
    socket.on('connect', function () { $('socket-state').textContent = 'connected'; $('init').disabled = false; $('logout').disabled = false; });
    socket.on('disconnect', function (reason) { $('socket-state').textContent = 'disconnected (' + reason + ')'; });
    socket.on('connect_error', function (err) { $('socket-state').textContent = 'refused: ' + err.message; });
    socket.onAny(function (name, payload) { log(name, payload); });
    socket.on('qr', function (dataUrl) {
      $('qr').src = dataUrl;
      $('qr-box').hidden = false;
      // The image is what a phone scans; the text drives the simulator's phone API by hand.
      call('GET', '/api/whatsapp/qr').then(function (body) { if (body && body.qr) $('qr-text').textContent = body.qr; });
    });
    socket.on('session_status', function (s) {
      $('session-state').textContent = s.status + (s.reason ? ' (' + s.reason + ')' : '');
      if (s.status === 'connected') $('qr-box').hidden = true;
    });
  });
  $('init').addEventListener('click', function () { call('POST', '/api/whatsapp/init'); });
  $('logout').addEventListener('click', function () { call('POST', '/api/whatsapp/logout'); });
})();

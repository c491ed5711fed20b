// whatsapp-web.js depends on puppeteer, whose install would download a browser; this machine (and CI)
// cannot, and we use the system Chromium (CHROMIUM_PATH) instead.
module.exports = { skipDownload: true };

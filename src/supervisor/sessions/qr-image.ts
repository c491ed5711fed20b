import QRCode from 'qrcode';

/** The QR string as a PNG data URL, what the seed's client shows in an <img>. */
export function qrDataUrl(qr: string): Promise<string> {
  // Margin 2 and scale 6 give a ~300 px image that phone cameras read reliably off a screen.
  return QRCode.toDataURL(qr, { errorCorrectionLevel: 'M', margin: 2, scale: 6 });
}

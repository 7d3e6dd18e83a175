using System.Buffers.Binary;
using System.IO.Compression;
using System.Text;
using Cimef.Site.Portal;

namespace Cimef.Site.Web;

/// <summary>
/// The installable patient web app, all same-origin under the strict CSP: the web manifest, its icons (an
/// SVG and 192/512 px PNGs drawn here from the same geometry, no image file or third-party art) and the service worker
/// (wwwroot/js/portal-sw.js, served from /patient/sw.js so its default scope is /patient/, revalidated on every check).
/// Anonymous: the login page links the manifest; none of these responses carries patient data.
/// </summary>
public static class PortalApp
{
    public const string ManifestPath = PatientRoutes.Manifest;
    public const string ServiceWorkerPath = PatientRoutes.ServiceWorker;
    public const string ThemeColor = "#0b5d8a";
    private const string Background = "#ffffff";
    private const string LongCache = "public, max-age=86400";

    private static readonly byte[] Manifest = Encoding.UTF8.GetBytes($$"""
        {"name":"CIMEF","short_name":"CIMEF","start_url":"{{PatientRoutes.Root}}/","scope":"{{PatientRoutes.Root}}/","display":"standalone","background_color":"{{Background}}","theme_color":"{{ThemeColor}}","icons":[{"src":"{{PatientRoutes.Icons}}/cimef.svg","sizes":"any","type":"image/svg+xml"},{"src":"{{PatientRoutes.Icons}}/cimef-192.png","sizes":"192x192","type":"image/png","purpose":"any maskable"},{"src":"{{PatientRoutes.Icons}}/cimef-512.png","sizes":"512x512","type":"image/png","purpose":"any maskable"}]}
        """);

    // The icon: a white cross on the theme colour, inside the central 60 % (the maskable safe zone).
    // Arm: the cross's length, Bar: its thickness, both in hundredths of the side.
    private const int Arm = 50, Bar = 16, Side = (Arm - Bar) / 2;

    private static readonly byte[] Svg = Encoding.UTF8.GetBytes(
        $"""<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 100 100"><rect width="100" height="100" fill="{ThemeColor}"/><path fill="#fff" d="M{50 - Bar / 2} {50 - Arm / 2}h{Bar}v{Side}h{Side}v{Bar}h-{Side}v{Side}h-{Bar}v-{Side}h-{Side}v-{Bar}h{Side}z"/></svg>""");

    private static readonly Lazy<byte[]> Png192 = new(() => Png(192));
    private static readonly Lazy<byte[]> Png512 = new(() => Png(512));

    public static void MapPortalApp(this IEndpointRouteBuilder app)
    {
        var files = app.MapGroup("").AllowAnonymous().ForPatients();
        files.MapGet(ManifestPath, (HttpContext http) => Bytes(http, Manifest, "application/manifest+json"));
        files.MapGet(PatientRoutes.Icons + "/cimef.svg", (HttpContext http) => Bytes(http, Svg, "image/svg+xml"));
        files.MapGet(PatientRoutes.Icons + "/cimef-192.png", (HttpContext http) => Bytes(http, Png192.Value, "image/png"));
        files.MapGet(PatientRoutes.Icons + "/cimef-512.png", (HttpContext http) => Bytes(http, Png512.Value, "image/png"));
        files.MapGet(ServiceWorkerPath, (HttpContext http, IWebHostEnvironment env) =>
        {
            var file = env.WebRootFileProvider.GetFileInfo("js/portal-sw.js");
            if (!file.Exists || file.PhysicalPath is null) return Results.NotFound();
            // Revalidated on every update check (a 304 when unchanged): a fixed service worker reaches every phone at once.
            http.Response.Headers.CacheControl = "no-cache";
            var etag = new Microsoft.Net.Http.Headers.EntityTagHeaderValue($"\"{file.LastModified.UtcTicks:x}-{file.Length:x}\"");
            return Results.File(file.PhysicalPath, "text/javascript; charset=utf-8", lastModified: file.LastModified, entityTag: etag);
        });
    }

    private static IResult Bytes(HttpContext http, byte[] bytes, string contentType)
    {
        http.Response.Headers.CacheControl = LongCache;
        return Results.Bytes(bytes, contentType);
    }

    /// <summary>The icon as an RGB PNG of <paramref name="size"/> pixels a side (filter 0 rows, zlib, CRC-32 per chunk).</summary>
    public static byte[] Png(int size)
    {
        byte[] theme = Convert.FromHexString(ThemeColor[1..]), white = [255, 255, 255];
        int armLo = size * (100 - Arm) / 200, armHi = size - armLo;
        int barLo = size * (100 - Bar) / 200, barHi = size - barLo;
        var raw = new byte[size * (1 + 3 * size)];
        for (var y = 0; y < size; y++)
        {
            var row = y * (1 + 3 * size);
            for (var x = 0; x < size; x++)
            {
                var inCross = (x >= barLo && x < barHi && y >= armLo && y < armHi) || (y >= barLo && y < barHi && x >= armLo && x < armHi);
                (inCross ? white : theme).CopyTo(raw, row + 1 + 3 * x);
            }
        }
        using var idat = new MemoryStream();
        using (var z = new ZLibStream(idat, CompressionLevel.SmallestSize, leaveOpen: true)) z.Write(raw);
        var header = new byte[13];
        BinaryPrimitives.WriteInt32BigEndian(header, size);
        BinaryPrimitives.WriteInt32BigEndian(header.AsSpan(4), size);
        header[8] = 8; // bit depth
        header[9] = 2; // truecolour RGB
        using var png = new MemoryStream();
        png.Write([0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]);
        Chunk(png, "IHDR", header);
        Chunk(png, "IDAT", idat.ToArray());
        Chunk(png, "IEND", []);
        return png.ToArray();
    }

    private static void Chunk(Stream png, string type, byte[] data)
    {
        Span<byte> four = stackalloc byte[4];
        BinaryPrimitives.WriteInt32BigEndian(four, data.Length);
        png.Write(four);
        var typed = Encoding.ASCII.GetBytes(type).Concat(data).ToArray();
        png.Write(typed);
        BinaryPrimitives.WriteUInt32BigEndian(four, Crc32(typed));
        png.Write(four);
    }

    private static readonly uint[] CrcTable = Enumerable.Range(0, 256).Select(n =>
    {
        var c = (uint)n;
        for (var k = 0; k < 8; k++) c = (c & 1) != 0 ? 0xEDB88320 ^ (c >> 1) : c >> 1;
        return c;
    }).ToArray();

    private static uint Crc32(byte[] bytes)
    {
        var c = 0xFFFFFFFFu;
        foreach (var b in bytes) c = CrcTable[(c ^ b) & 0xFF] ^ (c >> 8);
        return c ^ 0xFFFFFFFFu;
    }
}

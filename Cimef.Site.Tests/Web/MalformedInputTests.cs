using System.Collections.Concurrent;
using System.Net;
using System.Reflection;
using System.Text;
using Cimef.Site.Data.Entities;
using Cimef.Site.Tests.Infrastructure;
using Cimef.Site.Tests.Portal;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc.RazorPages;

using Microsoft.AspNetCore.Routing;
using Microsoft.AspNetCore.Routing.Patterns;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Cimef.Site.Tests.Web;

/// <summary>
/// No 500 from bad input, anywhere: every mapped endpoint (read from the app's EndpointDataSource, so new ones
/// are covered without editing this test) gets malformed route, query, form and JSON values, as an admin
/// (cookie and Bearer), as a patient and anonymously; a binding failure is a 400 with a French message and a
/// one-line warning, never a 5xx or an error-level log with a stack trace.
/// </summary>
public class MalformedInputTests : IClassFixture<MalformedInputTests.Factory>
{
    public sealed class Factory : CimefFactory
    {
        public LogCapture Logs { get; } = new();

        public Factory()
        {
            Settings["Portal:LoginRequestsPerMinutePerIp"] = "100000";
            ConfigureTestServices = s => s.AddSingleton<ILoggerProvider>(Logs);
        }
    }

    private readonly Factory _factory;

    public MalformedInputTests(Factory factory) => _factory = factory;

    private static readonly string[] BadValues =
        ["abc", "99999999999999999999", "", "é€😀", "1'", "1 OR 1=1", "-1", "1.5"];

    private static readonly string[] BadBodies = ["{", "[]", "{\"amount\":\"x\"}", "{\"id\":\"1'\",\"patient_id\":\"1 OR 1=1\",\"is_active\":\"x\",\"lines\":{}}", "null"];

    private static readonly string[] ExtraQueryNames = ["page", "q", "status", "p", "id", "handler", "sort", "from", "to", "view"];

    [Fact]
    public async Task A_malformed_page_number_on_the_patients_api_is_a_400_in_French_with_a_warning_not_an_error()
    {
        var client = await _factory.StaffClientAsync(Roles.Admin);
        _factory.Logs.Clear();

        var response = await client.GetAsync("/api/patients/?page=abc");

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);
        var json = await response.JsonAsync();
        var messages = json.GetProperty("errors").GetProperty("page").EnumerateArray().Select(m => m.GetString()).ToList();
        Assert.Contains("« abc »", Assert.Single(messages));
        Assert.Contains("page", messages[0]);
        Assert.DoesNotContain(_factory.Logs.Entries, e => e.Level >= LogLevel.Error);
        var warning = Assert.Single(_factory.Logs.Entries, e => e.Level == LogLevel.Warning && e.Message.Contains("/api/patients/"));
        Assert.Null(warning.Exception);
        Assert.DoesNotContain('\n', warning.Message);

        var quote = await client.GetAsync("/api/patients/access/?page=1'");
        Assert.Equal(HttpStatusCode.BadRequest, quote.StatusCode);
        Assert.True((await quote.JsonAsync()).GetProperty("errors").TryGetProperty("page", out _));
    }

    [Fact]
    public async Task A_malformed_json_body_is_a_400_in_French()
    {
        var client = await _factory.StaffClientAsync(Roles.Admin);
        var p = await _factory.Data.PatientAsync();
        var report = await _factory.Data.ReportAsync(p);
        _factory.Logs.Clear();

        foreach (var body in new[] { "{", "[]", "{\"is_active\":\"x\"}" })
        {
            var response = await client.PutAsync($"/api/reports/{report}/", new StringContent(body, Encoding.UTF8, "application/json"));
            Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
            Assert.Contains("JSON", (await response.JsonAsync()).GetProperty("error").GetString());
        }
        Assert.DoesNotContain(_factory.Logs.Entries, e => e.Level >= LogLevel.Error);
    }

    [Fact]
    public async Task Filters_that_find_nothing_unknown_page_handlers_and_bad_status_codes_are_not_500s()
    {
        var client = await _factory.StaffClientAsync(Roles.Admin);
        _factory.Logs.Clear();

        // An empty result used to fail Dapper's record mapping (SQLite reports no column type without a row).
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/Access?q=personne-de-ce-nom")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/Billing?status=1%27")).StatusCode);
        var api = await client.GetAsync("/api/patients/access/?q=personne-de-ce-nom&status=locked");
        Assert.Equal(HttpStatusCode.OK, api.StatusCode);
        Assert.Equal(0, (await api.JsonAsync()).GetProperty("results").GetArrayLength());

        // A POST the page has no handler for, or an unknown ?handler=, used to render an unloaded model.
        var token = await client.GetAntiforgeryTokenAsync("/Patients/Create");
        using var post = new HttpRequestMessage(HttpMethod.Post, "/Patients/Details/1")
        {
            Content = new FormUrlEncodedContent(new Dictionary<string, string> { ["__RequestVerificationToken"] = token }),
        };
        Assert.Equal(HttpStatusCode.MethodNotAllowed, (await client.SendAsync(post)).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await client.GetAsync("/Access/Details/999999?handler=abc")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await client.GetAsync("/Error?code=-1")).StatusCode);
        Assert.DoesNotContain(_factory.Logs.Entries, e => e.Level >= LogLevel.Error);
    }

    [Fact]
    public async Task Every_endpoint_answers_malformed_input_without_a_5xx()
    {
        var admin = await _factory.StaffClientAsync(Roles.Admin);
        var bearer = await _factory.Data.ApiClientAsync(Roles.Admin);
        var patient = await _factory.PatientClientAsync(await _factory.Data.PatientAsync());
        var anonymous = _factory.NewClient();
        var clients = new (string Name, HttpClient Client, string? Token)[]
        {
            ("admin (cookie)", admin, await admin.GetAntiforgeryTokenAsync("/Patients/Create")),
            ("admin (Bearer)", bearer, null),
            ("patient", patient, await patient.GetAntiforgeryTokenAsync("/patient/dashboard")),
            ("anonyme", anonymous, await anonymous.GetAntiforgeryTokenAsync("/Account/SignIn")),
        };
        _factory.Logs.Clear();

        var endpoints = _factory.Services.GetRequiredService<EndpointDataSource>().Endpoints.OfType<RouteEndpoint>().ToList();
        Assert.Contains(endpoints, e => e.RoutePattern.RawText == "/api/patients/");
        Assert.Contains(endpoints, e => e.Metadata.GetMetadata<CompiledPageActionDescriptor>() is not null);

        var failures = new ConcurrentQueue<string>();
        var requests = 0;
        // One walker per client, side by side (each client keeps its own cookies).
        await Task.WhenAll(clients.Select(c => Task.Run(() => WalkAsync(c.Name, c.Client, c.Token))));

        async Task WalkAsync(string clientName, HttpClient client, string? token)
        {
            foreach (var endpoint in endpoints)
            {
                // Signing out would turn the rest of the walk anonymous; the anonymous client walks those routes.
                if (clientName != "anonyme" && IsSignOut(endpoint)) continue;
                var methods = endpoint.Metadata.GetMetadata<IHttpMethodMetadata>()?.HttpMethods ?? [HttpMethods.Get, HttpMethods.Post];
                var names = ParameterNames(endpoint);
                foreach (var value in BadValues)
                {
                    // The bad value in the route, in every query name at once, and (for the nastiest values) in
                    // each query name alone, so a later parameter is reached even when an earlier one fails first.
                    var urls = new List<string> { Url(endpoint.RoutePattern, value, [], value), Url(endpoint.RoutePattern, "1", names, value) };
                    if (value is "abc" or "1'")
                        urls.AddRange(names.Select(n => Url(endpoint.RoutePattern, "1", [n], value)));
                    foreach (var (url, index) in urls.Distinct().Select((u, i) => (u, i)))
                    foreach (var method in methods.Append(HttpMethods.Get).Distinct())
                    {
                        if (index >= 2 && !HttpMethods.IsGet(method)) continue;
                        if (!HttpMethods.IsGet(method) && !HttpMethods.IsPost(method) && !HttpMethods.IsPut(method) && !HttpMethods.IsHead(method)) continue;
                        var contents = HttpMethods.IsGet(method) || HttpMethods.IsHead(method) ? [null] : Bodies(names, value, token);
                        foreach (var content in contents)
                        {
                            using var request = new HttpRequestMessage(new HttpMethod(method), url) { Content = content?.Invoke() };
                            if (token is not null) request.Headers.Add("RequestVerificationToken", token);
                            Interlocked.Increment(ref requests);
                            try
                            {
                                using var response = await client.SendAsync(request);
                                if ((int)response.StatusCode >= 500)
                                    failures.Enqueue($"{(int)response.StatusCode} {method} {endpoint.RoutePattern.RawText} ({clientName}), e.g. {url} [{content?.Invoke().Headers.ContentType}]");
                            }
                            catch (HttpRequestException e)
                            {
                                failures.Enqueue($"exception {method} {endpoint.RoutePattern.RawText} ({clientName}), e.g. {url}: {e.Message}");
                            }
                        }
                    }
                }
            }
        }

        Assert.True(requests > 1000, $"only {requests} requests");
        Assert.True(failures.Count == 0, $"{failures.Count} réponses 5xx sur {requests} :\n" + string.Join("\n", failures.GroupBy(f => f[..f.IndexOf(", e.g.", StringComparison.Ordinal)]).Select(g => g.First()).Take(60))
            + "\n" + string.Join("\n", _factory.Logs.Entries.Where(e => e.Exception is not null).Select(e => e.Exception!.GetType().Name + ": " + e.Exception.Message.Split('\n')[0]).Distinct().Take(30)));
        var errors = _factory.Logs.Entries.Where(e => e.Level >= LogLevel.Error).Select(e => $"{e.Category}: {e.Message}").Distinct().Take(20).ToList();
        Assert.True(errors.Count == 0, "erreurs journalisées :\n" + string.Join("\n", errors));
    }

    private static bool IsSignOut(RouteEndpoint e) =>
        (e.RoutePattern.RawText ?? "").Contains("signout", StringComparison.OrdinalIgnoreCase)
        || (e.RoutePattern.RawText ?? "").Contains("logout", StringComparison.OrdinalIgnoreCase);

    /// <summary>Names a request can bind to: the handler's parameters (minimal API MethodInfo or page handler
    /// methods), a page's bound properties and their nested properties (Input.Amount), plus common query names.</summary>
    private static List<string> ParameterNames(RouteEndpoint endpoint)
    {
        var names = new List<string>(ExtraQueryNames);
        if (endpoint.Metadata.GetMetadata<MethodInfo>() is { } method)
            names.AddRange(method.GetParameters().Where(p => IsSimple(p.ParameterType)).Select(p => p.Name!));
        if (endpoint.Metadata.GetMetadata<CompiledPageActionDescriptor>() is { } page)
        {
            names.AddRange(page.HandlerMethods.SelectMany(h => h.Parameters).Where(p => IsSimple(p.ParameterType)).Select(p => p.Name));
            foreach (var property in page.BoundProperties)
            {
                if (IsSimple(property.ParameterType)) names.Add(property.BindingInfo?.BinderModelName ?? property.Name);
                else
                    names.AddRange(property.ParameterType.GetProperties(BindingFlags.Public | BindingFlags.Instance)
                        .Where(p => p.CanWrite && IsSimple(p.PropertyType)).Select(p => $"{property.Name}.{p.Name}"));
            }
        }
        return names.Distinct(StringComparer.OrdinalIgnoreCase).ToList();
    }

    private static bool IsSimple(Type t)
    {
        t = Nullable.GetUnderlyingType(t) ?? t;
        return t.IsPrimitive || t.IsEnum || t == typeof(string) || t == typeof(decimal) || t == typeof(DateTime) || t == typeof(DateOnly)
               || t == typeof(DateTimeOffset) || t == typeof(Guid) || t == typeof(TimeOnly);
    }

    private static string Url(RoutePattern pattern, string routeValue, List<string> queryNames, string queryValue)
    {
        var path = new StringBuilder();
        foreach (var segment in pattern.PathSegments)
        {
            path.Append('/');
            foreach (var part in segment.Parts)
                path.Append(part switch
                {
                    RoutePatternLiteralPart l => l.Content,
                    RoutePatternSeparatorPart s => s.Content,
                    RoutePatternParameterPart => Uri.EscapeDataString(routeValue),
                    _ => "",
                });
        }
        if ((pattern.RawText ?? "").EndsWith('/') && path.Length > 0) path.Append('/');
        if (path.Length == 0) path.Append('/');
        var query = string.Join("&", queryNames.Select(n => $"{Uri.EscapeDataString(n)}={Uri.EscapeDataString(queryValue)}"));
        var url = path.ToString().Replace("//", "/");
        return query.Length == 0 ? url : $"{url}?{query}";
    }

    /// <summary>Malformed JSON bodies (the API) and a form with every bindable name set to the bad value (pages).</summary>
    private static IEnumerable<Func<HttpContent>?> Bodies(List<string> names, string value, string? token)
    {
        foreach (var body in BadBodies) yield return () => new StringContent(body, Encoding.UTF8, "application/json");
        yield return () =>
        {
            var fields = names.Select(n => new KeyValuePair<string, string>(n, value)).ToList();
            if (token is not null) fields.Add(new("__RequestVerificationToken", token));
            return new FormUrlEncodedContent(fields);
        };
        yield return null;
    }
}

/// <summary>Collects every log entry of the host (level, category, message, exception) for assertions.</summary>
public sealed class LogCapture : ILoggerProvider
{
    public sealed record Entry(LogLevel Level, string Category, string Message, Exception? Exception);

    private readonly ConcurrentQueue<Entry> _entries = new();

    public IReadOnlyCollection<Entry> Entries => _entries.ToArray();

    public void Clear() => _entries.Clear();

    public ILogger CreateLogger(string categoryName) => new Logger(this, categoryName);

    public void Dispose() { }

    private sealed class Logger(LogCapture owner, string category) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => logLevel >= LogLevel.Information;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            if (IsEnabled(logLevel)) owner._entries.Enqueue(new Entry(logLevel, category, formatter(state, exception), exception));
        }
    }
}

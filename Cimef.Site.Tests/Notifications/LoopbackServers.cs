using System.Buffers;
using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using MimeKit;
using SmtpServer;
using SmtpServer.ComponentModel;
using SmtpServer.Net;
using SmtpServer.Protocol;
using SmtpServer.Storage;

namespace Cimef.Site.Tests.Notifications;

public static class FreePort
{
    public static int Next()
    {
        var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        return port;
    }
}

/// <summary>A real SMTP server (SmtpServer package) on a loopback port; keeps every message it receives.</summary>
public sealed class LoopbackSmtp : IAsyncDisposable
{
    private readonly CancellationTokenSource _stop = new();
    private Task _running = Task.CompletedTask;
    public ConcurrentQueue<MimeMessage> Received { get; } = new();

    public static async Task<LoopbackSmtp> StartAsync(int port)
    {
        var smtp = new LoopbackSmtp();
        var started = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var options = new SmtpServerOptionsBuilder().ServerName("localhost")
            .Endpoint(b => b.Endpoint(new IPEndPoint(IPAddress.Loopback, port))).Build();
        var listeners = new EndpointListenerFactory();
        listeners.EndpointStarted += (_, _) => started.TrySetResult();
        var services = new SmtpServer.ComponentModel.ServiceProvider();
        services.Add(new Store(smtp.Received));
        services.Add(listeners);
        smtp._running = new SmtpServer.SmtpServer(options, services).StartAsync(smtp._stop.Token);
        await Task.WhenAny(started.Task, smtp._running).WaitAsync(TimeSpan.FromSeconds(10));
        return smtp;
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        try { await _running.WaitAsync(TimeSpan.FromSeconds(10)); } catch (OperationCanceledException) { }
        _stop.Dispose();
    }

    private sealed class Store(ConcurrentQueue<MimeMessage> received) : MessageStore
    {
        public override async Task<SmtpResponse> SaveAsync(ISessionContext context, IMessageTransaction transaction, ReadOnlySequence<byte> buffer, CancellationToken ct)
        {
            using var stream = new MemoryStream(buffer.ToArray());
            received.Enqueue(await MimeMessage.LoadAsync(stream, ct));
            return SmtpResponse.Ok;
        }
    }
}

/// <summary>An HTTP server on a loopback port standing in for an SMS provider; records requests, answers with <see cref="Respond"/>.</summary>
public sealed class FakeProvider : IAsyncDisposable
{
    public sealed record Seen(string Method, string RawTarget, string? Authorization, string? ContentType, string Body);

    private readonly WebApplication _app;
    public ConcurrentQueue<Seen> Requests { get; } = new();
    public Func<Seen, (int Status, string Json)> Respond { get; set; } = _ => (200, "{}");
    /// <summary>When set, the server never answers the matching request (the client times out).</summary>
    public Func<Seen, bool> Hang { get; set; } = _ => false;
    public string Address { get; }

    private FakeProvider(WebApplication app, string address)
    {
        _app = app;
        Address = address;
    }

    public static FakeProvider Start()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        var app = builder.Build();
        FakeProvider? self = null;
        var stopping = app.Lifetime.ApplicationStopping;
        app.Run(async http =>
        {
            using var reader = new StreamReader(http.Request.Body);
            var seen = new Seen(http.Request.Method, http.Features.Get<IHttpRequestFeature>()!.RawTarget,
                http.Request.Headers.Authorization.ToString(), http.Request.ContentType, await reader.ReadToEndAsync());
            self!.Requests.Enqueue(seen);
            if (self.Hang(seen))
            {
                try { await new TaskCompletionSource().Task.WaitAsync(CancellationTokenSource.CreateLinkedTokenSource(http.RequestAborted, stopping).Token); }
                catch (OperationCanceledException) { }
                return;
            }
            var (status, json) = self.Respond(seen);
            http.Response.StatusCode = status;
            http.Response.ContentType = "application/json";
            await http.Response.WriteAsync(json);
        });
        app.StartAsync().GetAwaiter().GetResult();
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        self = new FakeProvider(app, address.TrimEnd('/'));
        return self;
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}
